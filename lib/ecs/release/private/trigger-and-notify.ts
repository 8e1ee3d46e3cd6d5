import { Duration, Validations } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeControl } from '../../../private/guard';

/**
 * An SNS publish of the release result before `then`, or `then` alone without a topic. A lost
 * notification must not turn a release into a different outcome, so a publish error goes on to `then`.
 */
export function notifyState(scope: Construct, id: string, stateName: string, result: string, topic: sns.ITopic | undefined, then: sfn.State): sfn.IChainable {
  if (!topic) return then;
  const publish = new tasks.SnsPublish(scope, id, {
    stateName,
    topic,
    subject: `Release ${result.toLowerCase()}`,
    message: sfn.TaskInput.fromObject({
      result,
      'imageDigest.$': '$.imageDigest',
      'execution.$': '$$.Execution.Id',
      'stateMachine.$': '$$.StateMachine.Id',
      ...(result === 'FAILED' ? { 'error.$': '$.failure.error', 'message.$': '$.failure.message' } : {}),
    }),
    resultPath: sfn.JsonPath.DISCARD,
  });
  publish.addCatch(then, { errors: [sfn.Errors.ALL], resultPath: '$.notificationError' });
  return publish.next(then);
}

/** The rule (with its dead-letter queue) that starts a release when a matching image tag is pushed. */
export function imagePushRule(scope: Construct, stateMachine: sfn.IStateMachine, repository: ecr.IRepository, tagPattern: string, gateTags: string[]): events.Rule {
  const rule = new events.Rule(scope, 'ImagePushRule', {
    description: `Starts the release state machine ${scope.node.path} when an image tag matching ${tagPattern} is pushed.`,
    eventPattern: {
      source: ['aws.ecr'],
      detailType: ['ECR Image Action'],
      detail: {
        'action-type': ['PUSH'],
        'result': ['SUCCESS'],
        'repository-name': [repository.repositoryName],
        // The gate's own PutImage calls are pushes too; '*' would release every release again.
        'image-tag': tagPattern === '*' ? events.Match.anythingBut(...gateTags) : events.Match.wildcard(tagPattern),
      },
    },
  });
  const deadLetterQueue = new sqs.Queue(scope, 'ImagePushDeadLetterQueue', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  Validations.of(deadLetterQueue).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: 'This queue is itself the dead-letter queue of the image push rule target; a DLQ of a DLQ would only move the problem.',
  });
  acknowledgeControl(deadLetterQueue, 'sqs_dlq_check',
    'This queue is itself the dead-letter queue of the image-push rule\'s target; nothing consumes it, so a dead-letter queue of its own would never receive anything.');
  rule.addTarget(new eventsTargets.SfnStateMachine(stateMachine, {
    input: events.RuleTargetInput.fromObject({
      trigger: 'ecr-push',
      repositoryName: events.EventField.fromPath('$.detail.repository-name'),
      imageTag: events.EventField.fromPath('$.detail.image-tag'),
      imageDigest: events.EventField.fromPath('$.detail.image-digest'),
    }),
    deadLetterQueue,
    retryAttempts: 3,
    maxEventAge: Duration.hours(1),
  }));
  return rule;
}

/**
 * Acknowledges the wildcards the state machine role cannot avoid. They are inherent to the
 * services, not to this construct's choices, so they are acknowledged here on the role's policy.
 */
export function acknowledgeWildcards(stateMachine: sfn.StateMachine, topic: sns.ITopic | undefined, utilityTasks: string): void {
  const policy = stateMachine.role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Only actions without resource-level permissions use "*": X-Ray trace writes and CloudWatch Logs vended-log delivery '
      + '(CreateLogDelivery, PutResourcePolicy... accept only "*"). RunTask/StopTask/DescribeTasks are limited to the utility cluster '
      + '(ecs:cluster), UpdateService/DescribeServices to the listed services, iam:PassRole to the task roles and ecs-tasks.',
  });
  Validations.of(policy).acknowledge({
    id: `AwsSolutions-IAM5[Resource::${utilityTasks}]`,
    reason: 'The .sync ECS integration stops and describes the migration task, whose id exists only at run time; the statement covers '
      + 'the tasks of the utility cluster only (ecs:cluster condition too).',
  });
  if (topic) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'ITopic.grantPublish grants kms:GenerateDataKey* on the topic key only, which SNS needs to publish to an encrypted topic.',
    });
  }
}
