import { Duration, Size, Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { HandlerFunction } from '../../private/handler-function';
import { acknowledgeWildcards } from '../private/nag';
import { duplicatesOf, invalidProp, requireIntegerInRange } from '../../private/validation';
import type { IAppService } from '../services/app-service';

/** The signal that tells a job runner to stop taking new work and finish what it has. */
export class WorkerSignal {
  /** SIGTSTP: "quiet" in Sidekiq 5 and later. */
  public static readonly TSTP = new WorkerSignal('TSTP');
  /** SIGUSR1: "quiet" in Sidekiq before 5 (the talk's era). */
  public static readonly USR1 = new WorkerSignal('USR1');

  /** Another signal, by name without the SIG prefix (e.g. `'USR2'`). */
  public static of(name: string): WorkerSignal {
    return new WorkerSignal(name);
  }

  private constructor(
    /** Signal name without the SIG prefix. */
    public readonly name: string,
  ) {}
}

/** A worker service the watchdog looks after. */
export interface WatchedWorkerService {
  /** The service; it must run on EC2 container instances (Run Command reaches the host). */
  readonly service: IAppService;
  /** The job-runner container of the service's task definition. */
  readonly container: ecs.ContainerDefinition;
  /** Short name: the Parameter Store path segment of this service's limits (`<prefix>/<name>/...`). */
  readonly name: string;
  /**
   * Memory above which a task is recycled. Written to `<prefix>/<name>/max-memory-mib`.
   * @default - the parameter is not created; operators set it (until then the service is left alone)
   */
  readonly maxMemory?: Size;
  /**
   * Worker tasks the service should have; while fewer run, nothing is signalled. Written to `<prefix>/<name>/expected-workers`.
   * @default - the parameter is not created; operators set it (until then the service is left alone)
   */
  readonly expectedWorkers?: number;
  /**
   * The container instances' ECS_CONTAINER_STOP_TIMEOUT, when the worker container leaves its own
   * stopTimeout unset and inherits the agent's (container definitions allow at most 120 seconds).
   * @default - the agent default, 30 seconds
   */
  readonly inheritedStopTimeout?: Duration;
}

/** Props of {@link WorkerWatchdog}. */
export interface WorkerWatchdogProps {
  /** The worker services to watch. */
  readonly services: WatchedWorkerService[];
  /**
   * The "stop taking work" signal.
   * @default WorkerSignal.TSTP
   */
  readonly signal?: WorkerSignal;
  /**
   * Time between the signal and ecs:StopTask. Each worker container's stopTimeout must be at least
   * as long, so that the SIGTERM that follows also leaves the job runner this much time.
   * @default Duration.minutes(2)
   */
  readonly gracePeriod?: Duration;
  /**
   * Largest share of a service's running tasks (percent, 1–100) signalled and not yet stopped at any time.
   * @default 25
   */
  readonly maxSignalledPercent?: number;
  /**
   * Parameter Store path prefix of the limits and of the watchdog's own "signalled" state.
   * @default '/worker-watchdog'
   */
  readonly parameterPrefix?: string;
  /**
   * The Auto Scaling groups whose instances run the workers: Run Command is then allowed only on
   * instances tagged with these group names.
   * @default - Run Command is allowed on any instance of the account and region
   */
  readonly autoScalingGroups?: autoscaling.IAutoScalingGroup[];
}

const NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
/** The ECS agent's ECS_CONTAINER_STOP_TIMEOUT when the instance does not set it. */
const AGENT_DEFAULT_STOP_TIMEOUT_SECONDS = 30;
const PREFIX = /^(\/[a-zA-Z0-9_.-]+)+$/;

/**
 * The talk's worker monitor: every minute a Lambda function reads each watched service's limits
 * from Parameter Store, each task's memory from Container Insights (enhanced observability,
 * task level), and sends the over-limit tasks the job runner's "stop taking work" signal through
 * SSM Run Command (`docker kill --signal=...` on the task's container instance). After the grace
 * period it stops the task, and the service starts a fresh one. A task is never signalled twice,
 * and at most `maxSignalledPercent` of a service is being recycled at once.
 *
 * Needs Container Insights with enhanced observability on the cluster and the SSM agent (with
 * AmazonSSMManagedInstanceCore) on the container instances.
 */
export class WorkerWatchdog extends Construct {
  /** The watchdog function. */
  public readonly function: lambda.IFunction;
  /** The function's role. */
  public readonly role: iam.IRole;

  constructor(scope: Construct, id: string, props: WorkerWatchdogProps) {
    super(scope, id);
    const signal = props.signal ?? WorkerSignal.TSTP;
    const grace = props.gracePeriod ?? Duration.minutes(2);
    const share = props.maxSignalledPercent ?? 25;
    const prefix = props.parameterPrefix ?? '/worker-watchdog';
    this.validate(props, signal, grace, share, prefix);

    const stack = Stack.of(this);
    const services = props.services.map((w) => ({
      cluster: w.service.service.cluster.clusterName,
      service: w.service.service.serviceName,
      container: w.container.containerName,
      parameterPrefix: `${prefix}/${w.name}`,
    }));
    props.services.forEach((w) => {
      if (w.maxMemory !== undefined) {
        new ssm.StringParameter(this, `${w.name}MaxMemory`, {
          parameterName: `${prefix}/${w.name}/max-memory-mib`,
          stringValue: String(w.maxMemory.toMebibytes()),
          description: `Worker watchdog: memory (MiB) above which a ${w.name} task is recycled`,
        });
      }
      if (w.expectedWorkers !== undefined) {
        new ssm.StringParameter(this, `${w.name}ExpectedWorkers`, {
          parameterName: `${prefix}/${w.name}/expected-workers`,
          stringValue: String(w.expectedWorkers),
          description: `Worker watchdog: ${w.name} tasks below which nothing is recycled`,
        });
      }
    });

    const handler = new HandlerFunction(this, 'Function', {
      handler: 'worker-watchdog',
      serviceName: 'worker-watchdog',
      description: `Recycles over-memory job workers gracefully (SIG${signal.name}, then StopTask)`,
      timeout: Duration.seconds(60),
      environment: {
        WATCHDOG_CONFIG: stack.toJsonString({
          services,
          signal: signal.name,
          gracePeriodSeconds: grace.toSeconds(),
          maxSignalledPercent: share,
          memoryNamespace: 'ECS/ContainerInsights',
          memoryMetricName: 'MemoryUtilized',
        }),
      },
    });
    this.function = handler.function;
    this.role = handler.role;
    this.grant(handler.role, props, prefix);

    new events.Rule(this, 'Schedule', {
      description: 'Checks worker memory once a minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(handler.function, { retryAttempts: 0 })],
    });
  }

  private grant(role: iam.Role, props: WorkerWatchdogProps, prefix: string): void {
    const stack = Stack.of(this);
    const parameterArn = (name: string) => stack.formatArn({ service: 'ssm', resource: 'parameter', resourceName: `${prefix.slice(1)}/${name}` });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:GetParameters', 'ssm:GetParameter'],
      resources: props.services.flatMap((w) => ['max-memory-mib', 'expected-workers', 'signalled'].map((p) => parameterArn(`${w.name}/${p}`))),
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:PutParameter'],
      resources: props.services.map((w) => parameterArn(`${w.name}/signalled`)),
    }));
    const clusters = [...new Map(props.services.map((w) => [w.service.service.cluster.node.path, w.service.service.cluster])).values()];
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:ListTasks'],
      resources: clusters.map((c) => stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${c.clusterName}/*` })),
      conditions: { ArnEquals: { 'ecs:cluster': clusters.map((c) => c.clusterArn) } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeTasks', 'ecs:StopTask'],
      resources: clusters.map((c) => stack.formatArn({ service: 'ecs', resource: 'task', resourceName: `${c.clusterName}/*` })),
      conditions: { ArnEquals: { 'ecs:cluster': clusters.map((c) => c.clusterArn) } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeContainerInstances'],
      resources: clusters.map((c) => stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${c.clusterName}/*` })),
      conditions: { ArnEquals: { 'ecs:cluster': clusters.map((c) => c.clusterArn) } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['cloudwatch:GetMetricData'],
      resources: ['*'],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:SendCommand'],
      resources: [stack.formatArn({ service: 'ssm', account: '', resource: 'document', resourceName: 'AWS-RunShellScript' })],
    }));
    const groups = props.autoScalingGroups ?? [];
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:SendCommand'],
      resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
      conditions: groups.length > 0
        ? { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': groups.map((g) => g.autoScalingGroupName) } }
        : undefined,
    }));
    acknowledgeWildcards(this, [
      { finding: /^Resource::\*$/, reason: 'cloudwatch:GetMetricData has no resource-level permissions; the watchdog only reads task memory with it.' },
      { finding: /^Resource::arn:.*:ecs:.*:(task|container-instance)\/.*\/\*$/, reason: 'Task and container instance ARNs are only known at run time; the statements are limited to the watched clusters by the ecs:cluster condition.' },
      ...(groups.length > 0 ? [{ finding: /^Resource::arn:.*:ec2:.*:instance\/\*$/, reason: 'Instance ids are only known at run time; Run Command is limited to the instances of the given Auto Scaling groups by their aws:autoscaling:groupName tag.' }] : []),
    ]);
  }

  private validate(props: WorkerWatchdogProps, signal: WorkerSignal, grace: Duration, share: number, prefix: string): void {
    if (props.services.length === 0) invalidProp(this, 'services', [], 'must not be empty', 'Watch at least one worker service.');
    if (!/^[A-Z][A-Z0-9]{1,9}$/.test(signal.name) || ['KILL', 'STOP'].includes(signal.name.replace(/^SIG/, ''))) {
      invalidProp(this, 'signal', signal.name, 'is not a signal a job runner can handle gracefully', 'Use WorkerSignal.TSTP or WorkerSignal.USR1.');
    }
    if (Token.isUnresolved(share) || !Number.isFinite(share) || share <= 0 || share > 100) {
      invalidProp(this, 'maxSignalledPercent', share, 'must be more than 0 and at most 100', 'Pick the share of a service that may finish its jobs at the same time, e.g. 25.');
    }
    const graceSeconds = grace.toSeconds();
    if (graceSeconds < 60 || graceSeconds > 3600) {
      invalidProp(this, 'gracePeriod', `${graceSeconds} seconds`, 'must be from 1 minute to 1 hour', 'The watchdog runs once a minute; give the longest job time to finish.');
    }
    if (!PREFIX.test(prefix)) invalidProp(this, 'parameterPrefix', prefix, 'is not a Parameter Store path', "Use a path such as '/worker-watchdog'.");
    const dup = duplicatesOf(props.services.map((w) => w.name));
    if (dup.length > 0) invalidProp(this, 'services', dup, 'use the same name more than once', 'Give each watched service its own name.');
    props.services.forEach((w, i) => {
      const at = `services[${i}]`;
      if (!NAME.test(w.name)) invalidProp(this, `${at}.name`, w.name, 'is not a valid path segment', 'Use letters, digits, dots, dashes and underscores.');
      if (w.container.taskDefinition !== w.service.taskDefinition) {
        invalidProp(this, `${at}.container`, w.container.containerName, `is not in the task definition of ${w.service.node.path}`, 'Pass the job-runner container of that service.');
      }
      if (!w.service.taskDefinition.isEc2Compatible) {
        invalidProp(this, `${at}.service`, w.service.node.path, 'does not run on EC2 container instances', 'The signal travels through SSM Run Command on the host; watch EC2 services only.');
      }
      requireIntegerInRange(this, `${at}.expectedWorkers`, w.expectedWorkers, 0, 5000);
      if (w.maxMemory !== undefined && !Token.isUnresolved(w.maxMemory.toMebibytes()) && w.maxMemory.toMebibytes() < 1) {
        invalidProp(this, `${at}.maxMemory`, `${w.maxMemory.toMebibytes()} MiB`, 'must be at least 1 MiB', 'Set the memory a healthy worker stays under.');
      }
      // The time between StopTask's SIGTERM and SIGKILL: the container's own, else the agent's.
      const own = w.container.renderContainerDefinition().stopTimeout;
      const inherited = w.inheritedStopTimeout?.toSeconds() ?? AGENT_DEFAULT_STOP_TIMEOUT_SECONDS;
      const effective = own ?? inherited;
      if (!Token.isUnresolved(effective) && effective < graceSeconds) {
        invalidProp(this, `${at}.container stopTimeout`, own === undefined ? `unset, inherits ${inherited} seconds from the agent` : `${own} seconds`,
          `is shorter than gracePeriod (${graceSeconds} seconds)`,
          `Give the worker container a stopTimeout of at least ${graceSeconds} seconds (or set inheritedStopTimeout to the agent's longer ECS_CONTAINER_STOP_TIMEOUT), or shorten gracePeriod.`);
      }
    });
  }
}
