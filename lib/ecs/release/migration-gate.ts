import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { newKey } from '../../private/kms';
import { deployStates } from './private/deploy-states';
import { executionTimeout, validateGateProps } from './private/gate-validation';
import { encryptedLogGroup } from './private/logs';
import { judgeMigration, migrationStates, nagResourceName, tasksOfCluster } from './private/migration-states';
import { checkInput, describeFailure, readLiveDigest, recordLiveDigest, restoreLiveTag, tagImage, waitForTurn } from './private/release-states';
import { dependOnPolicyOnly } from './private/state-machine';
import { acknowledgeWildcards, imagePushRule, notifyState } from './private/trigger-and-notify';

/** Default command: `assets:precompile` uploads assets when the app uses asset_sync; then the migration. */
const DEFAULT_COMMAND = ['sh', '-c', 'bin/rails assets:precompile && bin/rails db:migrate'];

/** Properties of a {@link MigrationGate}. */
export interface MigrationGateProps {
  /** The utility cluster the one-off migration task runs on. */
  readonly cluster: ecs.ICluster;

  /**
   * Task definition of the migration task. Its migration container must run
   * `MigrationGate.migrationImage(repository)`: the gate puts the migration tag on the released digest
   * just before it runs the task, and checks afterwards that the task ran that digest.
   */
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

  /**
   * Application services updated (new deployment) once the migration succeeded; at least one.
   * Their application containers must run `MigrationGate.liveImage(repository)`, so that the image
   * only changes through the gate (checked at synth for services defined in the app).
   */
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
   * The application image repository. A push of a tag matching `imageTagPattern` starts a release of
   * the pushed digest; the gate moves the `MigrationGate.MIGRATION_TAG` and `MigrationGate.LIVE_TAG`
   * tags in it, so those two tags must be mutable (MUTABLE, or IMMUTABLE_WITH_EXCLUSION excluding them).
   */
  readonly repository: ecr.IRepository;

  /**
   * EventBridge wildcard pattern (`*` matches any characters) the pushed image tag must match.
   * It must not match the gate's own tags (`live`, `migrating`).
   *
   * @default '*' - every tagged push except the gate's own tags
   */
  readonly imageTagPattern?: string;

  /**
   * Pause between two looks at the running releases while an earlier release still runs.
   *
   * @default Duration.seconds(30)
   */
  readonly queueCheckInterval?: Duration;

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
 * The deploy flow of the FiNC talk as a Step Functions state machine, releasing one artifact: an
 * image digest. The release waits until every earlier release has ended (one at a time, in start
 * order), tags the digest `migrating` and runs the migration task (asset upload + `db:migrate`) on
 * the utility cluster; only when its container exits 0 having run that digest is the digest tagged
 * `live` and each application service (running `:live`) given a new deployment; the release waits
 * (a bounded number of checks) until every deployment is stable, then records the digest in
 * {@link MigrationGate.liveDigestParameter}. A failed, timed-out or unplaceable migration fails the
 * release with the exit code, the stopped reason and where the logs are, and never touches the
 * services; a failed deployment puts `live` back on the previous digest (the services' circuit
 * breaker rolls the tasks back; the schema never is).
 *
 * Start it by pushing an image (see `repository`) or by hand:
 * `aws stepfunctions start-execution --state-machine-arn <arn> --input '{"imageDigest":"sha256:..."}'`.
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

  /** Tag the gate puts on the released digest just before the migration task runs. */
  public static readonly MIGRATION_TAG = 'migrating';

  /** Tag the gate puts on the released digest once the migration exited 0; the services run it. */
  public static readonly LIVE_TAG = 'live';

  /** The image the migration container must run: `<repository>:migrating`. */
  public static migrationImage(repository: ecr.IRepository): ecs.ContainerImage {
    return ecs.ContainerImage.fromEcrRepository(repository, MigrationGate.MIGRATION_TAG);
  }

  /**
   * The image the gated services must run: `<repository>:live`. A `cdk deploy` then always starts the
   * digest the last successful release migrated; a new image reaches the services only through the gate.
   */
  public static liveImage(repository: ecr.IRepository): ecs.ContainerImage {
    return ecs.ContainerImage.fromEcrRepository(repository, MigrationGate.LIVE_TAG);
  }

  /** The release state machine. */
  public readonly stateMachine: sfn.StateMachine;
  /** Log group of the state machine's executions (level ALL). */
  public readonly logGroup: logs.ILogGroup;
  /** The rule that starts a release on an image push. */
  public readonly imagePushRule: events.Rule;
  /** The digest the services run since the last successful release (`none` before the first one). */
  public readonly liveDigestParameter: ssm.StringParameter;

  constructor(scope: Construct, id: string, props: MigrationGateProps) {
    super(scope, id);
    const container = validateGateProps(this, props, [MigrationGate.MIGRATION_TAG, MigrationGate.LIVE_TAG]);
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

    this.liveDigestParameter = new ssm.StringParameter(this, 'LiveDigest', {
      description: `Image digest the services of ${this.node.path} run since its last successful release; written by the release state machine.`,
      stringValue: 'none',
    });

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

    const rollback = restoreLiveTag(this, props.repository, MigrationGate.LIVE_TAG, props.services, failureTail);
    const deploy = deployStates(this, { services: props.services, checkInterval, maxChecks, failureTail: rollback });
    const succeed = new sfn.Succeed(this, 'Released', { stateName: 'Released' });
    deploy.next(recordLiveDigest(this, this.liveDigestParameter))
      .next(notifyState(this, 'NotifySuccess', 'Notify success', 'SUCCEEDED', props.notificationTopic, succeed));

    const tagLive = tagImage(this, {
      repository: props.repository,
      tag: MigrationGate.LIVE_TAG,
      digestPath: '$.imageDigest',
      id: 'LiveImage',
      stateName: 'live image',
      missing: describeFailure(this, 'DescribeLiveImageMissing', 'Describe live image missing', 'ReleaseImageMissing',
        "States.Format('Image {} is no longer in the repository after its migration; the services were not updated.', $.imageDigest)").next(failureTail),
    }, deploy);
    const ranReleasedDigest = new sfn.Choice(this, 'MigratedReleasedDigest', { stateName: 'Migration ran the released digest?' })
      .when(sfn.Condition.and(
        sfn.Condition.isPresent('$.migration.Containers[0].ImageDigest'),
        sfn.Condition.stringEqualsJsonPath('$.migration.Containers[0].ImageDigest', '$.imageDigest'),
      ), tagLive)
      .otherwise(describeFailure(this, 'DescribeWrongDigest', 'Describe wrong migrated digest', 'MigrationRanOtherImage',
        `States.Format('Migration task {} ran another image than the release {} (the ${MigrationGate.MIGRATION_TAG} tag moved while it started); the services were not updated.', $.migration.TaskArn, $.imageDigest)`).next(failureTail));
    const migrate = judgeMigration(this, migration, ranReleasedDigest);

    const tagMigration = tagImage(this, {
      repository: props.repository,
      tag: MigrationGate.MIGRATION_TAG,
      digestPath: '$.imageDigest',
      id: 'ReleaseImage',
      stateName: 'release image',
      missing: describeFailure(this, 'DescribeReleaseImageMissing', 'Describe release image missing', 'ReleaseImageMissing',
        "States.Format('Image {} is not in the repository; nothing was migrated and the services were not updated.', $.imageDigest)").next(failureTail),
    }, migrate);
    const readLive = readLiveDigest(this, this.liveDigestParameter);
    const taggingFailed = describeFailure(this, 'DescribeTaggingFailure', 'Describe tagging failure', 'ReleaseTaggingFailed',
      "States.Format('Reading the live digest or moving a tag failed ({}): {}. The services were not updated.', $.error.Error, $.error.Cause)").next(failureTail);
    for (const state of [readLive, ...['GetReleaseImage', 'PutReleaseImage', 'GetLiveImage', 'PutLiveImage'].map((c) => this.node.findChild(c) as tasks.CallAwsService)]) {
      state.addCatch(taggingFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
    }
    const start = checkInput(this, fail, waitForTurn(this, props.queueCheckInterval ?? Duration.seconds(30), readLive.next(tagMigration)));

    const encryptionKey = props.logEncryptionKey ?? newKey(this, 'LogKey', {
      description: `Encrypts the execution logs of ${this.node.path}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.logGroup = encryptedLogGroup(this, 'Logs', encryptionKey, props.logRetention ?? logs.RetentionDays.ONE_YEAR);

    this.stateMachine = new sfn.StateMachine(this, 'Resource', {
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      comment: 'Releases one image digest: migration on the utility cluster with that digest, then the services only if it exited 0.',
      // Bounded by design: one earlier release ahead in the queue plus this one (migration timeout,
      // capacity retries, every deployment check), with margin.
      timeout: executionTimeout(migrationTimeout, capacityRetryAttempts, checkInterval, maxChecks),
      tracingEnabled: true,
      logs: { destination: this.logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    props.notificationTopic?.grantPublish(this.stateMachine);
    acknowledgeWildcards(this.stateMachine, props.notificationTopic, nagResourceName(this, tasksOfCluster(this, props.cluster)));
    dependOnPolicyOnly(this.stateMachine);
    // The queue reads this state machine's own executions. A statement in the role's default policy
    // would make the state machine depend on a policy naming it (a cycle), so it is a policy of its own.
    new iam.Policy(this, 'QueuePolicy', {
      roles: [this.stateMachine.role],
      statements: [new iam.PolicyStatement({ actions: ['states:ListExecutions'], resources: [this.stateMachine.stateMachineArn] })],
    });

    this.imagePushRule = imagePushRule(this, this.stateMachine, props.repository, props.imageTagPattern ?? '*', [MigrationGate.MIGRATION_TAG, MigrationGate.LIVE_TAG]);
  }
}
