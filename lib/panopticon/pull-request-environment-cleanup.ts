import { Aws, Duration, Validations } from 'aws-cdk-lib';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { PullRequestEnvironmentTags } from './pull-request-environment';
import { HandlerFunction } from '../private/handler-function';
import { requireDurationInRange } from '../private/validation';
import { FunctionVpcPlacement } from '../common/function-placement';

export interface PullRequestEnvironmentCleanupProps {
  /**
   * Runs the function of this construct in a VPC (AWS Control Tower control CT.LAMBDA.PR.3).
   *
   * @default - outside a VPC; the control is acknowledged on the function, with the reason
   */
  readonly functionPlacement?: FunctionVpcPlacement;
  /**
   * How often the clean-up runs.
   * @default Duration.hours(1)
   */
  readonly interval?: Duration;

  /**
   * Retention of the clean-up function's logs (the record of what it removed).
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * Deletes pull-request environment stacks once their `cleanup-after` tag has passed.
 *
 * On a schedule, a function lists the stacks of its account and region and calls CloudFormation
 * DeleteStack (by stack id) on each one tagged `pr-number` whose `cleanup-after` duration (an ISO
 * 8601 duration, written by `PullRequestEnvironment`) has elapsed since the stack's last update.
 * It logs every stack it removes, keeps or skips (malformed tags, stacks CloudFormation is busy
 * with), and deletes nothing when the listing fails.
 *
 * Least privilege: DeleteStack is allowed only on stacks that carry both tags
 * (`aws:ResourceTag` condition); the stack's own CloudFormation service role (for stacks deployed
 * with `cdk deploy`, the bootstrap execution role) deletes the resources, so the function holds no
 * permission on ECS, EC2 or anything else in the stacks.
 */
export class PullRequestEnvironmentCleanup extends Construct {
  /** The clean-up function. */
  public readonly function: lambda.Function;
  /** The schedule that runs it. */
  public readonly rule: events.Rule;

  constructor(scope: Construct, id: string, props: PullRequestEnvironmentCleanupProps = {}) {
    super(scope, id);
    requireDurationInRange(this, 'interval', props.interval, Duration.minutes(5), Duration.days(1));
    const handler = new HandlerFunction(this, 'Handler', {
      placement: props.functionPlacement,
      placementProp: 'functionPlacement',
      handler: 'pr-environment-cleanup',
      serviceName: 'pr-environment-cleanup',
      description: 'the pull-request environment clean-up: deletes PR stacks past their cleanup-after tag',
      logRetention: props.logRetention,
      timeout: Duration.minutes(2),
    });
    this.function = handler.function;
    const policy = new iam.Policy(this, 'DeleteExpiredStacksPolicy', {
      roles: [handler.role],
      statements: [
        // DescribeStacks without a stack name (listing every stack) is only allowed on "*".
        new iam.PolicyStatement({ actions: ['cloudformation:DescribeStacks'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['cloudformation:DeleteStack'],
          resources: [`arn:${Aws.PARTITION}:cloudformation:${Aws.REGION}:${Aws.ACCOUNT_ID}:stack/*`],
          conditions: {
            Null: {
              [`aws:ResourceTag/${PullRequestEnvironmentTags.PR_NUMBER}`]: 'false',
              [`aws:ResourceTag/${PullRequestEnvironmentTags.CLEANUP_AFTER}`]: 'false',
            },
          },
        }),
      ],
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudformation:DescribeStacks without a stack name (listing all stacks) supports no narrower resource; it only reads stack metadata.',
    });
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:cloudformation:<AWS::Region>:<AWS::AccountId>:stack/*]',
      reason: 'Pull-request stack names are not known in advance; DeleteStack is limited to stacks tagged pr-number and cleanup-after by an aws:ResourceTag condition.',
    });
    this.rule = new events.Rule(this, 'Schedule', {
      description: 'Runs the pull-request environment clean-up',
      schedule: events.Schedule.rate(props.interval ?? Duration.hours(1)),
      targets: [new targets.LambdaFunction(handler.function, { retryAttempts: 0 })],
    });
  }
}
