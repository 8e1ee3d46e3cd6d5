import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as eventsTargets from 'aws-cdk-lib/aws-events-targets';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { duplicatesOf, invalidProp, requireDurationInRange, requireIntegerInRange } from '../../private/validation';
import { encryptedLogGroup, intrinsicLiteral, logLocationExpression } from './private/logs';
import { dependOnPolicyOnly } from './private/state-machine';

/** Longest execution of a Standard state machine (one year). */
const MAX_EXECUTION = Duration.days(365);

/** Default command: `assets:precompile` uploads assets when the app uses asset_sync; then the migration. */
const DEFAULT_COMMAND = ['sh', '-c', 'bin/rails assets:precompile && bin/rails db:migrate'];

/** Properties of a {@link MigrationGate}. */
export interface MigrationGateProps {
  /** The utility cluster the one-off migration task runs on. */
  readonly cluster: ecs.ICluster;

  /** Task definition of the migration task (usually the application's own, with a command override). */
  readonly taskDefinition: ecs.TaskDefinition;

  /**
   * The container whose command is overridden and whose exit code decides the release.
   *
   * @default - the task definition's default (first essential) container
   */
  readonly container?: ecs.ContainerDefinition;

  /**
   * Command the migration container runs.
   *
   * @default ['sh', '-c', 'bin/rails assets:precompile && bin/rails db:migrate']
   */
  readonly command?: string[];

  /** Application services updated (new deployment) once the migration succeeded; at least one. */
  readonly services: ecs.IBaseService[];

  /**
   * Where the migration task is placed.
   *
   * @default - `new tasks.EcsEc2LaunchTarget()`: EC2 launch type on the utility cluster
   */
  readonly launchTarget?: tasks.IEcsLaunchTarget;

  /**
   * Subnets of the migration task (`awsvpc` network mode only).
   *
   * @default - private subnets of the cluster's VPC
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Security groups of the migration task (`awsvpc` network mode only).
   *
   * @default - a new security group
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * How long the migration task may run before the release fails (the services stay untouched).
   * At most one year, the longest Step Functions Standard execution.
   *
   * @default Duration.minutes(30)
   */
  readonly migrationTimeout?: Duration;

  /**
   * How often the migration task is started again when ECS cannot place it for lack of capacity
   * ({@link MigrationGate.CAPACITY_ERROR}); no other error is retried. 0 to 20.
   *
   * @default 5
   */
  readonly capacityRetryAttempts?: number;

  /**
   * Wait before the first capacity retry; each further wait doubles (capped at 5 minutes).
   *
   * @default Duration.seconds(30)
   */
  readonly capacityRetryInterval?: Duration;

  /**
   * Pause between two checks of a service deployment.
   *
   * @default Duration.seconds(30)
   */
  readonly stabilityCheckInterval?: Duration;

  /**
   * Checks of a deployment before the release fails as "not stable" (bounds the wait). 1 to 1000.
   *
   * @default 40
   */
  readonly maxStabilityChecks?: number;

  /**
   * Start the gate when an image is pushed to this repository with a tag matching `imageTagPattern`.
   *
   * @default - no automatic start: start executions by hand or from CI
   */
  readonly repository?: ecr.IRepository;

  /**
   * EventBridge wildcard pattern (`*` matches any characters) the pushed image tag must match.
   * Only used with `repository`.
   *
   * @default '*' - every tagged push
   */
  readonly imageTagPattern?: string;

  /**
   * SNS topic that receives one message per release, on success and on failure.
   * Whatever the setting, Step Functions also sends "Step Functions Execution Status Change"
   * events to the default EventBridge bus.
   *
   * @default - no SNS message
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * Key that encrypts the state machine's execution log group.
   *
   * @default - a new key with rotation enabled
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Retention of the execution log group.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * The deploy flow of the FiNC talk as a Step Functions state machine: a one-off task on the
 * utility cluster uploads assets and migrates the database; only when its container exits 0 is each
 * application service given a new deployment, and the release waits (a bounded number of checks)
 * until every deployment is stable. A failed, timed-out or unplaceable migration fails the release
 * with the exit code, the stopped reason and where the logs are, and never touches the services.
 *
 * Start it by pushing an image (see `repository`) or by hand:
 * `aws stepfunctions start-execution --state-machine-arn <arn> --input '{}'`.
 */
export class MigrationGate extends Construct {
  /**
   * Error name Step Functions gives a `.sync` ECS RunTask state when the task cannot be placed for
   * lack of capacity (RESOURCE:CPU / RESOURCE:MEMORY on EC2, "Capacity is unavailable" on Fargate);
   * AWS Knowledge Center "ecs-fargate-runtask-capacity": Step Functions records
   * `ECS.AmazonECSException` in its ErrorEquals field. A container that exits non-zero is a
   * different error (`States.TaskFailed`, with the stopped task as JSON in `Cause`) and is never retried.
   */
  public static readonly CAPACITY_ERROR = 'ECS.AmazonECSException';

  /** The release state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Log group of the state machine's executions (level ALL). */
  public readonly logGroup: logs.ILogGroup;
  /** The rule that starts a release on an image push, when `repository` is set. */
  public readonly imagePushRule?: events.Rule;

  constructor(scope: Construct, id: string, props: MigrationGateProps) {
    super(scope, id);
    const container = validate(this, props);
    const migrationTimeout = props.migrationTimeout ?? Duration.minutes(30);
    const capacityRetryAttempts = props.capacityRetryAttempts ?? 5;
    const checkInterval = props.stabilityCheckInterval ?? Duration.seconds(30);
    const maxChecks = props.maxStabilityChecks ?? 40;
    const command = props.command ?? DEFAULT_COMMAND;

    // ---- failure tail: every failure path fills $.failure = { error, message } and ends here.
    const fail = new sfn.Fail(this, 'ReleaseFailed', {
      stateName: 'Release failed',
      errorPath: '$.failure.error',
      causePath: '$.failure.message',
    });
    const failureTail = this.notify('NotifyFailure', 'Notify failure', 'FAILED', props.notificationTopic, fail);

    // ---- migration
    const runMigration = new tasks.EcsRunTask(this, 'RunMigration', {
      stateName: 'Run migration task',
      integrationPattern: sfn.IntegrationPattern.RUN_JOB,
      cluster: props.cluster,
      taskDefinition: props.taskDefinition,
      launchTarget: props.launchTarget ?? new tasks.EcsEc2LaunchTarget(),
      subnets: props.subnets,
      securityGroups: props.securityGroups,
      containerOverrides: [{ containerDefinition: container, command }],
      taskTimeout: sfn.Timeout.duration(migrationTimeout),
      resultSelector: taskSummary('$', container.containerName),
      resultPath: '$.migration',
    });
    if (capacityRetryAttempts > 0) {
      runMigration.addRetry({
        errors: [MigrationGate.CAPACITY_ERROR],
        maxAttempts: capacityRetryAttempts,
        interval: props.capacityRetryInterval ?? Duration.seconds(30),
        backoffRate: 2,
        maxDelay: Duration.minutes(5),
      });
    }

    const logLocation = logLocationExpression(container, '$.migration.TaskArn');
    const exitFailure = new sfn.Pass(this, 'DescribeExitFailure', {
      stateName: 'Describe migration exit',
      parameters: {
        error: 'MigrationFailed',
        'message.$': `States.Format('Migration task {} exited with code {}: {}. Logs: {}. The services were not updated.', $.migration.TaskArn, $.migration.Containers[0].ExitCode, $.migration.StoppedReason, ${logLocation})`,
      },
      resultPath: '$.failure',
    }).next(failureTail);
    const noExitCodeFailure = new sfn.Pass(this, 'DescribeStartFailure', {
      stateName: 'Describe migration start failure',
      parameters: {
        error: 'MigrationFailed',
        'message.$': `States.Format('Migration task {} stopped without an exit code of container ${container.containerName}: {}. Logs: {}. The services were not updated.', $.migration.TaskArn, $.migration.StoppedReason, ${logLocation})`,
      },
      resultPath: '$.failure',
    }).next(failureTail);
    const describeStoppedTask = new sfn.Choice(this, 'ExitCodeKnown', { stateName: 'Exit code known?' })
      .when(sfn.Condition.isPresent('$.migration.Containers[0].ExitCode'), exitFailure)
      .otherwise(noExitCodeFailure);

    // A container exiting non-zero fails a .sync RunTask with States.TaskFailed and the stopped task
    // as JSON in Cause; read it so the failure names the exit code like the success path does.
    const readStoppedTask = new sfn.Pass(this, 'ReadStoppedTask', {
      stateName: 'Read stopped task',
      parameters: { 'task.$': 'States.StringToJson($.error.Cause)' },
      resultPath: '$.stopped',
    }).next(new sfn.Pass(this, 'SummarizeStoppedTask', {
      stateName: 'Summarize stopped task',
      parameters: taskSummary('$.stopped.task', container.containerName),
      resultPath: '$.migration',
    })).next(describeStoppedTask);
    const otherFailure = new sfn.Pass(this, 'DescribeTaskError', {
      stateName: 'Describe migration error',
      parameters: {
        'error.$': '$.error.Error',
        'message.$': "States.Format('Migration task failed ({}): {}. The services were not updated.', $.error.Error, $.error.Cause)",
      },
      resultPath: '$.failure',
    }).next(failureTail);
    const taskFailed = new sfn.Choice(this, 'StoppedTaskInCause', { stateName: 'Stopped task in cause?' })
      .when(sfn.Condition.and(
        sfn.Condition.stringEquals('$.error.Error', 'States.TaskFailed'),
        sfn.Condition.stringMatches('$.error.Cause', '{*'),
      ), readStoppedTask)
      .otherwise(otherFailure);
    const timedOut = new sfn.Pass(this, 'DescribeTimeout', {
      stateName: 'Describe migration timeout',
      parameters: {
        error: 'MigrationTimedOut',
        message: `Migration task did not stop within ${migrationTimeout.toHumanString()}. The services were not updated.`,
      },
      resultPath: '$.failure',
    }).next(failureTail);
    const notPlaced = new sfn.Pass(this, 'DescribeNoCapacity', {
      stateName: 'Describe missing capacity',
      parameters: {
        error: 'MigrationNotPlaced',
        'message.$': `States.Format('Migration task could not be placed on the utility cluster after ${capacityRetryAttempts + 1} attempts: {}. The services were not updated.', $.error.Cause)`,
      },
      resultPath: '$.failure',
    }).next(failureTail);
    runMigration.addCatch(notPlaced, { errors: [MigrationGate.CAPACITY_ERROR], resultPath: '$.error' });
    runMigration.addCatch(timedOut, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.error' });
    runMigration.addCatch(taskFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    // ---- deployment of every service, in parallel, each waiting a bounded number of checks.
    const updateService = new tasks.CallAwsService(this, 'UpdateService', {
      stateName: 'Update service',
      service: 'ecs',
      action: 'updateService',
      iamAction: 'ecs:UpdateService',
      iamResources: props.services.map((s) => s.serviceArn),
      parameters: { 'Cluster.$': '$.cluster', 'Service.$': '$.service', ForceNewDeployment: true },
      resultSelector: { 'DeploymentIds.$': "$.Service.Deployments[?(@.Status == 'PRIMARY')].Id" },
      resultPath: '$.update',
    });
    const countCheck = new sfn.Pass(this, 'CountCheck', {
      stateName: 'Count check',
      parameters: { 'value.$': 'States.MathAdd($.checks.value, 1)' },
      resultPath: '$.checks',
    });
    const wait = new sfn.Wait(this, 'WaitForDeployment', {
      stateName: 'Wait for deployment',
      time: sfn.WaitTime.duration(checkInterval),
    });
    const describeService = new tasks.CallAwsService(this, 'DescribeService', {
      stateName: 'Describe service',
      service: 'ecs',
      action: 'describeServices',
      iamAction: 'ecs:DescribeServices',
      iamResources: props.services.map((s) => s.serviceArn),
      parameters: { 'Cluster.$': '$.cluster', 'Services.$': 'States.Array($.service)' },
      resultSelector: {
        'DeploymentCount.$': 'States.ArrayLength($.Services[0].Deployments)',
        'PrimaryIds.$': "$.Services[0].Deployments[?(@.Status == 'PRIMARY')].Id",
        'RunningCount.$': '$.Services[0].RunningCount',
        'DesiredCount.$': '$.Services[0].DesiredCount',
      },
      resultPath: '$.status',
    });
    const stable = new sfn.Succeed(this, 'ServiceStable', { stateName: 'Service stable' });
    // The local ASL interpreter the tests use reads ErrorPath/CausePath as plain paths, so the
    // messages are built in Pass states and one Fail state reads them.
    const deploymentFailed = new sfn.Fail(this, 'DeploymentFailed', {
      stateName: 'Deployment failed',
      errorPath: '$.failure.error',
      causePath: '$.failure.message',
    });
    const replaced = new sfn.Pass(this, 'DescribeReplacedDeployment', {
      stateName: 'Describe replaced deployment',
      parameters: {
        error: 'DeploymentRolledBack',
        'message.$': "States.Format('Service {}: the deployment started by this release is no longer the primary one (the deployment circuit breaker rolled it back, or another deployment replaced it).', $.service)",
      },
      resultPath: '$.failure',
    }).next(deploymentFailed);
    const notStable = new sfn.Pass(this, 'DescribeUnstableDeployment', {
      stateName: 'Describe unstable deployment',
      parameters: {
        error: 'DeploymentNotStable',
        'message.$': `States.Format('Service {} did not reach a steady state after {} checks {} apart ({} of {} tasks running, {} deployments).', $.service, $.checks.value, ${intrinsicLiteral(checkInterval.toHumanString())}, $.status.RunningCount, $.status.DesiredCount, $.status.DeploymentCount)`,
      },
      resultPath: '$.failure',
    }).next(deploymentFailed);
    const sameDeployment = sfn.Condition.stringEqualsJsonPath('$.status.PrimaryIds[0]', '$.update.DeploymentIds[0]');
    const judge = new sfn.Choice(this, 'DeploymentStable', { stateName: 'Deployment stable?' })
      .when(sfn.Condition.and(
        sfn.Condition.numberEquals('$.status.DeploymentCount', 1),
        sameDeployment,
        sfn.Condition.numberEqualsJsonPath('$.status.RunningCount', '$.status.DesiredCount'),
      ), stable)
      .when(sfn.Condition.not(sameDeployment), replaced)
      .when(sfn.Condition.numberGreaterThanEquals('$.checks.value', maxChecks), notStable)
      .otherwise(countCheck);
    updateService.next(countCheck);
    countCheck.next(wait);
    wait.next(describeService);
    describeService.next(judge);

    const deploy = new sfn.Map(this, 'DeployServices', {
      stateName: 'Deploy services',
      itemsPath: '$.services',
      itemSelector: {
        'cluster.$': '$$.Map.Item.Value.cluster',
        'service.$': '$$.Map.Item.Value.service',
        checks: { value: 0 },
      },
      resultPath: sfn.JsonPath.DISCARD,
    });
    deploy.itemProcessor(updateService);
    deploy.addCatch(new sfn.Pass(this, 'DescribeDeployFailure', {
      stateName: 'Describe deployment failure',
      parameters: {
        'error.$': '$.error.Error',
        'message.$': "States.Format('The migration succeeded and the services were updated, but a deployment did not complete: {}', $.error.Cause)",
      },
      resultPath: '$.failure',
    }).next(failureTail), { errors: [sfn.Errors.ALL], resultPath: '$.error' });

    const listServices = new sfn.Pass(this, 'ListServices', {
      stateName: 'List services',
      result: sfn.Result.fromArray(props.services.map((s) => ({ cluster: s.cluster.clusterArn, service: s.serviceName }))),
      resultPath: '$.services',
    });
    const succeed = new sfn.Succeed(this, 'Released', { stateName: 'Released' });
    listServices.next(deploy).next(this.notify('NotifySuccess', 'Notify success', 'SUCCEEDED', props.notificationTopic, succeed));

    // Rules are tried in order, so the comparison only ever sees an exit code that is present
    // (a missing variable in a comparison is a run-time error in Step Functions).
    const migrationOk = new sfn.Choice(this, 'MigrationSucceeded', { stateName: 'Migration exited 0?' })
      .when(sfn.Condition.not(sfn.Condition.isPresent('$.migration.Containers[0].ExitCode')), noExitCodeFailure)
      .when(sfn.Condition.numberEquals('$.migration.Containers[0].ExitCode', 0), listServices)
      .otherwise(exitFailure);

    const encryptionKey = props.logEncryptionKey ?? new kms.Key(this, 'LogKey', {
      description: `Encrypts the execution logs of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup = encryptedLogGroup(this, 'Logs', encryptionKey, props.logRetention ?? logs.RetentionDays.ONE_YEAR);

    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromChainable(runMigration.next(migrationOk)),
      comment: 'Runs the migration task on the utility cluster, then deploys the application services only if it exited 0.',
      // Bounded by design: migration timeout + capacity retries + every deployment check, with margin.
      timeout: executionTimeout(migrationTimeout, capacityRetryAttempts, checkInterval, maxChecks),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    props.notificationTopic?.grantPublish(this.stateMachine);
    acknowledgeWildcards(this.stateMachine, props.notificationTopic);
    dependOnPolicyOnly(this.stateMachine);

    if (props.repository) {
      this.imagePushRule = this.addImagePushRule(props.repository, props.imageTagPattern ?? '*');
    }
  }

  private notify(id: string, stateName: string, result: string, topic: sns.ITopic | undefined, then: sfn.State): sfn.IChainable {
    if (!topic) return then;
    const publish = new tasks.SnsPublish(this, id, {
      stateName,
      topic,
      subject: `Release ${result.toLowerCase()}`,
      message: sfn.TaskInput.fromObject({
        result,
        'execution.$': '$$.Execution.Id',
        'stateMachine.$': '$$.StateMachine.Id',
        ...(result === 'FAILED' ? { 'error.$': '$.failure.error', 'message.$': '$.failure.message' } : {}),
      }),
      resultPath: sfn.JsonPath.DISCARD,
    });
    // A lost notification must not turn a release into a different outcome.
    publish.addCatch(then, { errors: [sfn.Errors.ALL], resultPath: '$.notificationError' });
    return publish.next(then);
  }

  private addImagePushRule(repository: ecr.IRepository, tagPattern: string): events.Rule {
    const rule = new events.Rule(this, 'ImagePushRule', {
      description: `Starts the release state machine ${this.node.path} when an image tag matching ${tagPattern} is pushed.`,
      eventPattern: {
        source: ['aws.ecr'],
        detailType: ['ECR Image Action'],
        detail: {
          'action-type': ['PUSH'],
          'result': ['SUCCESS'],
          'repository-name': [repository.repositoryName],
          'image-tag': events.Match.wildcard(tagPattern),
        },
      },
    });
    const deadLetterQueue = new sqs.Queue(this, 'ImagePushDeadLetterQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(deadLetterQueue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter queue of the image push rule target; a DLQ of a DLQ would only move the problem.',
    });
    rule.addTarget(new eventsTargets.SfnStateMachine(this.stateMachine, {
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
}

/** The fields of a stopped ECS task the gate reads, as a ResultSelector / Parameters block. */
function taskSummary(root: string, containerName: string): { [key: string]: string } {
  return {
    'TaskArn.$': `${root}.TaskArn`,
    'StoppedReason.$': `${root}.StoppedReason`,
    'Containers.$': `${root}.Containers[?(@.Name == '${containerName}')]`,
  };
}

function executionTimeout(migration: Duration, retries: number, interval: Duration, checks: number): Duration {
  const seconds = migration.toSeconds() * (retries + 1) + 300 * retries + interval.toSeconds() * (checks + 1) + 3600;
  return Duration.seconds(Math.min(seconds, MAX_EXECUTION.toSeconds()));
}

/** Validates the props before any child exists; returns the migration container. */
function validate(scope: Construct, props: MigrationGateProps): ecs.ContainerDefinition {
  if (!props.services || props.services.length === 0) {
    invalidProp(scope, 'services', props.services ?? [], 'must list at least one application service', 'Pass the services the release deploys after the migration.');
  }
  const servicePaths = props.services.map((s) => s.node.path);
  const dup = duplicatesOf(servicePaths);
  if (dup.length > 0) {
    invalidProp(scope, 'services', dup, 'lists the same service more than once', 'List each service once.');
  }
  const container = props.container ?? props.taskDefinition.defaultContainer;
  if (!container) {
    invalidProp(scope, 'taskDefinition', props.taskDefinition.node.path, 'has no container', 'Add a container to the task definition or pass container.');
  }
  if (container.taskDefinition !== props.taskDefinition) {
    invalidProp(scope, 'container', container.node.path, 'does not belong to taskDefinition', 'Pass a container of the migration task definition.');
  }
  if (props.command !== undefined && (props.command.length === 0 || props.command.some((c) => c === ''))) {
    invalidProp(scope, 'command', props.command, 'must be a non-empty list of non-empty arguments', "Pass e.g. ['bin/rails', 'db:migrate'].");
  }
  requireDurationInRange(scope, 'migrationTimeout', props.migrationTimeout, Duration.minutes(1), MAX_EXECUTION, { maxReason: 'the longest Step Functions Standard execution' });
  requireDurationInRange(scope, 'stabilityCheckInterval', props.stabilityCheckInterval, Duration.seconds(5), Duration.hours(1), { maxReason: 'an hour between checks' });
  requireDurationInRange(scope, 'capacityRetryInterval', props.capacityRetryInterval, Duration.seconds(1), Duration.minutes(5), { maxReason: 'the 5-minute retry delay cap' });
  requireIntegerInRange(scope, 'capacityRetryAttempts', props.capacityRetryAttempts, 0, 20);
  requireIntegerInRange(scope, 'maxStabilityChecks', props.maxStabilityChecks, 1, 1000);
  if (props.imageTagPattern !== undefined) {
    if (!props.repository) {
      invalidProp(scope, 'imageTagPattern', props.imageTagPattern, 'is only used with repository', 'Pass repository, or drop imageTagPattern.');
    }
    // ECR tags: letters, digits, '_', '.', '-' (up to 128); '*' is the EventBridge wildcard.
    if (!/^[A-Za-z0-9_.*-]{1,128}$/.test(props.imageTagPattern)) {
      invalidProp(scope, 'imageTagPattern', props.imageTagPattern, 'is not an image tag pattern', "Use tag characters (letters, digits, '_', '.', '-') and '*' as the wildcard, e.g. 'release-*'.");
    }
  }
  return container;
}


/**
 * Acknowledges the wildcards the state machine role cannot avoid. They are inherent to the
 * services, not to this construct's choices, so they are acknowledged here on the role's policy.
 */
function acknowledgeWildcards(stateMachine: sfn.StateMachine, topic: sns.ITopic | undefined): void {
  const policy = stateMachine.role.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Only actions without resource-level permissions use "*": X-Ray trace writes, CloudWatch Logs delivery set-up, and the '
      + 'DescribeTasks/StopTask calls of the .sync ECS integration on tasks whose ids exist only at run time. RunTask is scoped to '
      + 'the migration task definition, UpdateService/DescribeServices to the listed services, iam:PassRole to the task roles.',
  });
  if (topic) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Action::kms:GenerateDataKey*]',
      reason: 'ITopic.grantPublish grants kms:GenerateDataKey* on the topic key only, which SNS needs to publish to an encrypted topic.',
    });
  }
}
