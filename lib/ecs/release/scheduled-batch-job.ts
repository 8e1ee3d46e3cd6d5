import { Aws, Duration, RemovalPolicy, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as schedulerTargets from 'aws-cdk-lib/aws-scheduler-targets';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { acknowledgeControl } from '../../private/guard';
import { newKey } from '../../private/kms';
import { invalidProp, requireIntegerInRange } from '../../private/validation';
import { encryptedLogGroup } from './private/logs';
import { dependOnPolicyOnly } from './private/state-machine';

/** Properties of a {@link ScheduledBatchJob}. */
export interface ScheduledBatchJobProps {
  /** The utility cluster the job's tasks run on. */
  readonly cluster: ecs.ICluster;

  /** An application task definition the job reuses; only the command is overridden. */
  readonly taskDefinition: ecs.TaskDefinition;

  /**
   * The container whose command is overridden.
   *
   * @default - the task definition's default (first essential) container
   */
  readonly container?: ecs.ContainerDefinition;

  /** Command of the job, e.g. `['bin/rails', 'reports:daily']`. */
  readonly command: string[];

  /** When the job runs: `ScheduleExpression.cron(...)`, `.rate(...)` or `.expression('cron(0 3 * * ? *)')`. */
  readonly schedule: scheduler.ScheduleExpression;

  /**
   * Name of the job: the tasks are started with `startedBy` `batch/<jobName>`, which is how a run
   * finds a previous run of the same job. Letters, digits, `-` and `_`, up to 64 characters.
   *
   * @default - the construct id
   */
  readonly jobName?: string;

  /**
   * Scheduler may start a run up to this long after the scheduled time, spreading load.
   * `Duration.minutes(0)` turns the flexible window off. At most 1440 minutes.
   *
   * @default Duration.minutes(5)
   */
  readonly flexibleTimeWindow?: Duration;

  /**
   * How often Scheduler retries starting a run when the start fails (0 to 185).
   *
   * @default 3
   */
  readonly retryAttempts?: number;

  /**
   * How long Scheduler keeps trying to start a run (60 seconds to 24 hours).
   *
   * @default Duration.hours(1)
   */
  readonly maxEventAge?: Duration;

  /**
   * Where Scheduler puts the runs it could not start.
   *
   * @default - a new SQS queue, encrypted, TLS only, 14 days retention
   */
  readonly deadLetterQueue?: sqs.IQueue;

  /**
   * Skip a run while a task of the previous run of this job is still running (or starting).
   *
   * @default true
   */
  readonly skipIfRunning?: boolean;

  /**
   * Capacity provider strategy of the job's tasks.
   *
   * @default - the cluster's default capacity provider strategy
   */
  readonly capacityProviderStrategies?: ecs.CapacityProviderStrategy[];

  /**
   * Subnets of the job's tasks; only for the `awsvpc` network mode.
   *
   * @default - the private subnets of the cluster's VPC
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Security groups of the job's tasks; required for the `awsvpc` network mode.
   *
   * @default - none (bridge or host network mode)
   */
  readonly securityGroups?: ec2.ISecurityGroup[];

  /**
   * Whether the schedule is enabled.
   *
   * @default true
   */
  readonly enabled?: boolean;

  /**
   * Key that encrypts the runner's execution log group.
   *
   * @default - a new key with rotation enabled
   */
  readonly logEncryptionKey?: kms.IKey;

  /**
   * Retention of the runner's execution log group.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
}

/**
 * A batch job of the FiNC talk (formerly started from Jenkins): an application task definition run
 * with another command on the utility cluster, on an EventBridge Scheduler schedule with a flexible
 * window, a retry policy and a dead-letter queue.
 *
 * Scheduler does not start the task itself: it starts a small "runner" state machine. That is how a
 * run can be skipped while the previous one is still running, which Scheduler's ECS target cannot
 * do: the runner lists the cluster's tasks started by `batch/<jobName>` (ListTasks returns tasks
 * whose desired status is RUNNING, so starting tasks count too) and calls RunTask only when there
 * are none. A Lambda function could do the same, but would need its own code, runtime and role;
 * two SDK-integration states need neither. Both the skip and a task ECS could not place are visible
 * as the runner execution's result (a skip succeeds, a placement failure fails it).
 */
export class ScheduledBatchJob extends Construct {
  /** The EventBridge Scheduler schedule. */
  public readonly schedule: scheduler.Schedule;
  /** The state machine the schedule starts; it starts the ECS task. */
  public readonly runner: sfn.StateMachine;
  /** Where runs that Scheduler could not start end up. */
  public readonly deadLetterQueue: sqs.IQueue;
  /** The `startedBy` value of the job's tasks. */
  public readonly startedBy: string;

  constructor(scope: Construct, id: string, props: ScheduledBatchJobProps) {
    super(scope, id);
    const { container, jobName } = validate(this, id, props);
    this.startedBy = `batch/${jobName}`;
    const network = networkConfiguration(this, props);

    const runTaskParameters: { [key: string]: unknown } = {
      Cluster: props.cluster.clusterArn,
      TaskDefinition: props.taskDefinition.taskDefinitionArn,
      StartedBy: this.startedBy,
      Count: 1,
      Overrides: { ContainerOverrides: [{ Name: container.containerName, Command: props.command }] },
    };
    if (props.capacityProviderStrategies) {
      runTaskParameters.CapacityProviderStrategy = props.capacityProviderStrategies.map((s) => ({
        CapacityProvider: s.capacityProvider,
        Weight: s.weight,
        Base: s.base,
      }));
    }
    if (network) runTaskParameters.NetworkConfiguration = network;

    const passRoles = [props.taskDefinition.taskRole.roleArn];
    if (props.taskDefinition.executionRole) passRoles.push(props.taskDefinition.executionRole.roleArn);
    const runTask = new tasks.CallAwsService(this, 'RunTask', {
      stateName: 'Run task',
      service: 'ecs',
      action: 'runTask',
      iamAction: 'ecs:RunTask',
      iamResources: [props.taskDefinition.taskDefinitionArn],
      additionalIamStatements: [new iam.PolicyStatement({
        actions: ['iam:PassRole'],
        resources: passRoles,
        conditions: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } },
      })],
      parameters: runTaskParameters,
      resultSelector: { 'Tasks.$': '$.Tasks', 'Failures.$': '$.Failures' },
      resultPath: '$.run',
    });
    const started = new sfn.Succeed(this, 'Started', { stateName: 'Started' });
    const notStarted = new sfn.Pass(this, 'DescribeNotStarted', {
      stateName: 'Describe placement failure',
      parameters: {
        error: 'BatchTaskNotStarted',
        'message.$': `States.Format('ECS did not start a task of batch job ${jobName}: {}', States.JsonToString($.run.Failures))`,
      },
      resultPath: '$.failure',
    }).next(new sfn.Fail(this, 'NotStarted', { stateName: 'Not started', errorPath: '$.failure.error', causePath: '$.failure.message' }));
    runTask.next(new sfn.Choice(this, 'TaskStarted', { stateName: 'Task started?' })
      .when(sfn.Condition.isPresent('$.run.Tasks[0]'), started)
      .otherwise(notStarted));

    let start: sfn.IChainable = runTask;
    let listTasks: iam.PolicyStatement | undefined;
    if (props.skipIfRunning ?? true) {
      // ListTasks accepts startedBy only as its sole filter; desiredStatus then defaults to RUNNING.
      const list = new sfn.CustomState(this, 'ListRunningTasks', {
        stateJson: {
          Type: 'Task',
          Resource: `arn:${Aws.PARTITION}:states:::aws-sdk:ecs:listTasks`,
          Parameters: { Cluster: props.cluster.clusterArn, StartedBy: this.startedBy },
          ResultSelector: { 'Count.$': 'States.ArrayLength($.TaskArns)' },
          ResultPath: '$.running',
        },
      });
      // ListTasks is authorized on "*" narrowed by the ecs:cluster condition key.
      listTasks = new iam.PolicyStatement({
        actions: ['ecs:ListTasks'],
        resources: ['*'],
        conditions: { ArnEquals: { 'ecs:cluster': props.cluster.clusterArn } },
      });
      list.next(new sfn.Choice(this, 'PreviousRunStillRunning', { stateName: 'Previous run still running?' })
        .when(sfn.Condition.numberGreaterThan('$.running.Count', 0), new sfn.Succeed(this, 'Skipped', {
          stateName: 'Skipped: previous run still running',
          comment: 'A skipped run is an expected outcome, not a failure.',
        }))
        .otherwise(runTask));
      start = list;
    }

    const key = props.logEncryptionKey ?? newKey(this, 'LogKey', {
      description: `Encrypts the execution logs of ${this.node.path}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logGroup = encryptedLogGroup(this, 'Logs', key, props.logRetention ?? logs.RetentionDays.ONE_YEAR);
    this.runner = new sfn.StateMachine(this, 'Runner', {
      definitionBody: sfn.DefinitionBody.fromChainable(start),
      comment: `Starts batch job ${jobName} on the utility cluster${props.skipIfRunning ?? true ? ' unless its previous run is still running' : ''}.`,
      timeout: Duration.minutes(5),
      tracingEnabled: true,
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: true },
    });
    if (listTasks) this.runner.addToRolePolicy(listTasks);
    dependOnPolicyOnly(this.runner);
    const policy = this.runner.role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      Validations.of(policy).acknowledge({
        id: 'AwsSolutions-IAM5[Resource::*]',
        reason: 'Only actions without resource-level permissions use "*": X-Ray trace writes, CloudWatch Logs delivery set-up, and '
          + 'ecs:ListTasks, which is narrowed to the utility cluster by the ecs:cluster condition. RunTask is scoped to the task '
          + 'definition and iam:PassRole to its roles, passed to ECS tasks only.',
      });
    }

    if (props.deadLetterQueue) {
      this.deadLetterQueue = props.deadLetterQueue;
    } else {
      const queue = new sqs.Queue(this, 'DeadLetterQueue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      });
      Validations.of(queue).acknowledge({
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the schedule target; a DLQ of a DLQ would only move the problem.',
      });
      acknowledgeControl(queue, 'sqs_dlq_check',
        'This queue is itself the dead-letter queue of the schedule\'s target; nothing consumes it, so a dead-letter queue of its own would never receive anything.');
      this.deadLetterQueue = queue;
    }

    const window = props.flexibleTimeWindow ?? Duration.minutes(5);
    this.schedule = new scheduler.Schedule(this, 'Schedule', {
      schedule: props.schedule,
      description: `Batch job ${jobName}: ${props.command.join(' ')}`.slice(0, 512),
      enabled: props.enabled ?? true,
      timeWindow: window.toMinutes() === 0 ? scheduler.TimeWindow.off() : scheduler.TimeWindow.flexible(window),
      target: new schedulerTargets.StepFunctionsStartExecution(this.runner, {
        input: scheduler.ScheduleTargetInput.fromObject({ job: jobName }),
        deadLetterQueue: this.deadLetterQueue,
        retryAttempts: props.retryAttempts ?? 3,
        maxEventAge: props.maxEventAge ?? Duration.hours(1),
      }),
    });
  }
}

function networkConfiguration(scope: Construct, props: ScheduledBatchJobProps): unknown {
  if (props.taskDefinition.networkMode !== ecs.NetworkMode.AWS_VPC) return undefined;
  if (!props.securityGroups || props.securityGroups.length === 0) {
    invalidProp(scope, 'securityGroups', props.securityGroups ?? [], 'must be given for a task definition in awsvpc network mode', 'Pass the security groups of the job tasks.');
  }
  const subnets = props.cluster.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS });
  return {
    AwsvpcConfiguration: {
      Subnets: subnets.subnetIds,
      SecurityGroups: props.securityGroups.map((sg) => sg.securityGroupId),
      AssignPublicIp: 'DISABLED',
    },
  };
}

const CRON_FIELD = /^[0-9A-Za-z*?,/#-]+$/;

/** Checks an EventBridge Scheduler expression: rate(), six-field cron() or at(). */
function scheduleProblem(expression: string): string | undefined {
  const rate = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/.exec(expression);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) return 'has a rate below 1';
    if (n === 1 && rate[2].endsWith('s')) return 'must use the singular unit for a rate of 1, e.g. rate(1 hour)';
    if (n > 1 && !rate[2].endsWith('s')) return 'must use the plural unit for a rate above 1, e.g. rate(5 minutes)';
    return undefined;
  }
  const cron = /^cron\((.*)\)$/.exec(expression);
  if (cron) {
    const fields = cron[1].trim().split(/\s+/);
    if (fields.length !== 6) return `has ${fields.length} cron fields, but Scheduler cron expressions have 6 (minutes hours day-of-month month day-of-week year)`;
    if (!fields.every((f) => CRON_FIELD.test(f))) return 'has characters a cron field cannot have';
    if ((fields[2] === '?') === (fields[4] === '?')) return "must have '?' in exactly one of day-of-month and day-of-week";
    return undefined;
  }
  if (/^at\(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\)$/.test(expression)) return undefined;
  return 'is not a rate(), cron() or at() expression';
}

function validate(scope: Construct, id: string, props: ScheduledBatchJobProps): { container: ecs.ContainerDefinition; jobName: string } {
  const jobName = props.jobName ?? id;
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(jobName)) {
    invalidProp(scope, 'jobName', jobName, "must be 1 to 64 letters, digits, '-' or '_'", props.jobName ? 'Rename the job.' : 'Pass jobName (the construct id is not a valid job name).');
  }
  if (!props.command || props.command.length === 0 || props.command.some((c) => c === '')) {
    invalidProp(scope, 'command', props.command ?? [], 'must be a non-empty list of non-empty arguments', "Pass e.g. ['bin/rails', 'reports:daily'].");
  }
  const expression = props.schedule.expressionString;
  if (!Token.isUnresolved(expression)) {
    const problem = scheduleProblem(expression);
    if (problem) {
      invalidProp(scope, 'schedule', expression, problem, "Use e.g. ScheduleExpression.cron({ minute: '0', hour: '3' }), ScheduleExpression.rate(Duration.hours(1)) or 'cron(0 3 * * ? *)'.");
    }
  }
  const container = props.container ?? props.taskDefinition.defaultContainer;
  if (!container) {
    invalidProp(scope, 'taskDefinition', props.taskDefinition.node.path, 'has no container', 'Add a container to the task definition or pass container.');
  }
  if (container.taskDefinition !== props.taskDefinition) {
    invalidProp(scope, 'container', container.node.path, 'does not belong to taskDefinition', 'Pass a container of the job task definition.');
  }
  const window = props.flexibleTimeWindow;
  if (window !== undefined && !Token.isUnresolved(window.toSeconds({ integral: false }))) {
    const minutes = window.toSeconds({ integral: false }) / 60;
    if (!Number.isInteger(minutes) || minutes < 0 || minutes > 1440) {
      invalidProp(scope, 'flexibleTimeWindow', window.toHumanString(), 'must be whole minutes from 0 (off) to 1440 (the Scheduler limit)', 'Set a window within that range.');
    }
  }
  requireIntegerInRange(scope, 'retryAttempts', props.retryAttempts, 0, 185);
  const age = props.maxEventAge;
  if (age !== undefined && !Token.isUnresolved(age.toSeconds({ integral: false }))) {
    const s = age.toSeconds({ integral: false });
    if (!Number.isInteger(s) || s < 60 || s > 86400) {
      invalidProp(scope, 'maxEventAge', age.toHumanString(), 'must be whole seconds from 60 to 86400 (the Scheduler limits)', 'Set maxEventAge within that range.');
    }
  }
  return { container, jobName };
}
