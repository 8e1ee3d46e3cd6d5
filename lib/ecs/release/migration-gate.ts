import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { deployStates } from './private/deploy-states';
import { executionTimeout, validateGateProps } from './private/gate-validation';
import { encryptedLogGroup } from './private/logs';
import { judgeMigration, migrationStates } from './private/migration-states';
import { dependOnPolicyOnly } from './private/state-machine';
import { acknowledgeWildcards, imagePushRule, notifyState } from './private/trigger-and-notify';

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
    const container = validateGateProps(this, props);
    const migrationTimeout = props.migrationTimeout ?? Duration.minutes(30);
    const capacityRetryAttempts = props.capacityRetryAttempts ?? 5;
    const checkInterval = props.stabilityCheckInterval ?? Duration.seconds(30);
    const maxChecks = props.maxStabilityChecks ?? 40;

    // Every failure path fills $.failure = { error, message } and ends here.
    const fail = new sfn.Fail(this, 'ReleaseFailed', {
      stateName: 'Release failed',
      errorPath: '$.failure.error',
      causePath: '$.failure.message',
    });
    const failureTail = notifyState(this, 'NotifyFailure', 'Notify failure', 'FAILED', props.notificationTopic, fail);

    const migration = migrationStates(this, {
      cluster: props.cluster,
      taskDefinition: props.taskDefinition,
      container,
      command: props.command ?? DEFAULT_COMMAND,
      launchTarget: props.launchTarget ?? new tasks.EcsEc2LaunchTarget(),
      subnets: props.subnets,
      securityGroups: props.securityGroups,
      migrationTimeout,
      capacityError: MigrationGate.CAPACITY_ERROR,
      capacityRetryAttempts,
      capacityRetryInterval: props.capacityRetryInterval ?? Duration.seconds(30),
      failureTail,
    });

    const deploy = deployStates(this, { services: props.services, checkInterval, maxChecks, failureTail });
    const succeed = new sfn.Succeed(this, 'Released', { stateName: 'Released' });
    deploy.next(notifyState(this, 'NotifySuccess', 'Notify success', 'SUCCEEDED', props.notificationTopic, succeed));

    const definition = judgeMigration(this, migration, deploy);

    const encryptionKey = props.logEncryptionKey ?? new kms.Key(this, 'LogKey', {
      description: `Encrypts the execution logs of ${this.node.path}`,
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup = encryptedLogGroup(this, 'Logs', encryptionKey, props.logRetention ?? logs.RetentionDays.ONE_YEAR);

    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromChainable(definition),
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
      this.imagePushRule = imagePushRule(this, this.stateMachine, props.repository, props.imageTagPattern ?? '*');
    }
  }
}
