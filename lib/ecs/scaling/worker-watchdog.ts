import { Duration, Lazy, Size, Stack, Token } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { HandlerFunction } from '../../private/handler-function';
import { acknowledgeWildcards } from '../../private/nag';
import { duplicatesOf, invalidProp, requireIntegerInRange } from '../../private/validation';
import type { IAppService } from '../services/app-service';
import { FunctionVpcPlacement } from '../../common/function-placement';

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
   * Memory above which a task is recycled (128 MiB to 1 TiB). Written to `<prefix>/<name>/max-memory-mib`;
   * the watchdog reads it strictly (digits only, 128-1048576) and leaves the service alone on any other value.
   * @default - the parameter is not created; operators set it (until then the service is left alone)
   */
  readonly maxMemory?: Size;
  /**
   * Worker tasks that always stay in service (at least 1): a task is signalled only while more than this
   * many run unsignalled. Written to `<prefix>/<name>/expected-workers`; the watchdog reads it strictly
   * (digits only, 1-5000) and leaves the service alone on any other value.
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
  /**
   * Runs the function of this construct in a VPC (AWS Control Tower control CT.LAMBDA.PR.3).
   *
   * @default - outside a VPC; the control is acknowledged on the function, with the reason
   */
  readonly functionPlacement?: FunctionVpcPlacement;
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
   * The Auto Scaling groups whose instances run the workers: the signal document may run only on
   * instances tagged with these group names.
   * @default - the groups of the capacity providers the watched services use (their own strategy, else
   * the cluster's default strategy); synthesis fails when none can be found
   */
  readonly autoScalingGroups?: autoscaling.IAutoScalingGroup[];
}

const NAME = /^[a-zA-Z0-9_.-]{1,64}$/;
/** The bounds the watchdog function applies to the Parameter Store limits (handlers/worker-watchdog/config.ts LIMITS). */
const MAX_MEMORY_MIB = { min: 128, max: 1_048_576 };
const EXPECTED_WORKERS = { min: 1, max: 5000 };
/** allowedPattern of the signal document's parameters: the same shapes the function checks before sending. */
const TASK_ARN_PATTERN = '^arn:aws[a-z-]*:ecs:[a-z0-9-]+:[0-9]{12}:task/[a-zA-Z0-9_/-]{1,255}$';
const CONTAINER_NAME_PATTERN = '^[a-zA-Z0-9_-]{1,255}$';
/** The ECS agent's ECS_CONTAINER_STOP_TIMEOUT when the instance does not set it. */
const AGENT_DEFAULT_STOP_TIMEOUT_SECONDS = 30;
const PREFIX = /^(\/[a-zA-Z0-9_.-]+)+$/;

/**
 * The talk's worker monitor: every minute a Lambda function reads each watched service's limits
 * from Parameter Store, each task's memory from Container Insights (enhanced observability,
 * task level), and sends the over-limit tasks the job runner's "stop taking work" signal through
 * the watchdog's own SSM document, which can do nothing but send that one signal to one named
 * container of one task (`docker kill --signal=...` on the task's container instance; every
 * parameter is constrained by `allowedPattern`). After the grace period it stops the task, and the
 * service starts a fresh one.
 *
 * Never harmful under faults: the function is single-flight (reserved concurrency 1, and a versioned
 * write of the "signalled" state before every signal, so an overlapping run stops); signalled and
 * stopped tasks share one budget of `maxSignalledPercent` per service; at least `expectedWorkers`
 * stay in service, checked before every signal; limits that are not plain digits within their
 * documented range make it leave the service alone and log why.
 *
 * Needs Container Insights with enhanced observability on the cluster and the SSM agent (with
 * AmazonSSMManagedInstanceCore) on the container instances.
 */
export class WorkerWatchdog extends Construct {
  /** The watchdog function. */
  public readonly function: lambda.IFunction;
  /** The function's role. */
  public readonly role: iam.IRole;
  /** The SSM document that sends the signal: one signal, one container, one task. */
  public readonly signalDocument: ssm.CfnDocument;

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

    this.signalDocument = new ssm.CfnDocument(this, 'SignalDocument', {
      documentType: 'Command',
      documentFormat: 'JSON',
      updateMethod: 'NewVersion',
      content: {
        schemaVersion: '2.2',
        description: `Worker watchdog: sends SIG${signal.name} to one container of one ECS task on this instance`,
        parameters: {
          taskArn: { type: 'String', description: 'ARN of the ECS task', allowedPattern: TASK_ARN_PATTERN },
          containerName: { type: 'String', description: 'Name of the container in the task', allowedPattern: CONTAINER_NAME_PATTERN },
          // Only the configured signal: the role cannot send SIGKILL or anything else through it.
          signal: { type: 'String', description: 'Signal name without the SIG prefix', allowedPattern: `^${signal.name}$` },
        },
        mainSteps: [{
          action: 'aws:runShellScript',
          name: 'signalWorker',
          inputs: {
            timeoutSeconds: '60',
            runCommand: [
              'docker ps --quiet --filter "label=com.amazonaws.ecs.task-arn={{ taskArn }}" --filter "label=com.amazonaws.ecs.container-name={{ containerName }}" '
              + '| xargs --no-run-if-empty docker kill --signal={{ signal }}',
            ],
          },
        }],
      },
    });

    const handler = new HandlerFunction(this, 'Function', {
      placement: props.functionPlacement,
      placementProp: 'functionPlacement',
      handler: 'worker-watchdog',
      serviceName: 'worker-watchdog',
      description: `Recycles over-memory job workers gracefully (SIG${signal.name}, then StopTask)`,
      timeout: Duration.seconds(60),
      // Single-flight: two runs never overlap (the versioned state write stops one that does anyway).
      reservedConcurrentExecutions: 1,
      environment: {
        WATCHDOG_CONFIG: stack.toJsonString({
          services,
          signal: signal.name,
          signalDocument: this.signalDocument.ref,
          gracePeriodSeconds: grace.toSeconds(),
          maxSignalledPercent: share,
          memoryNamespace: 'ECS/ContainerInsights',
          memoryMetricName: 'MemoryUtilized',
        }),
      },
    });
    this.function = handler.function;
    this.role = handler.role;
    // A throttled or failed minute is not replayed later: the next scheduled run looks afresh.
    handler.function.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(1) });
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
    // Only the watchdog's own document, never AWS-RunShellScript: the role can send one signal, nothing else.
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:SendCommand'],
      resources: [stack.formatArn({ service: 'ssm', resource: 'document', resourceName: this.signalDocument.ref })],
    }));
    // The groups are resolved lazily: a capacity provider or default strategy may be added after this construct.
    const groupNames = Lazy.list({ produce: () => this.workerGroups(props).map((g) => g.autoScalingGroupName) });
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ssm:SendCommand'],
      resources: [stack.formatArn({ service: 'ec2', resource: 'instance', resourceName: '*' })],
      conditions: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': groupNames } },
    }));
    this.node.addValidation({
      validate: () => (this.workerGroups(props).length > 0 ? [] : [
        'autoScalingGroups is not set and no Auto Scaling group could be found through the watched services\' capacity providers '
        + '(their capacityProviderStrategies, or the cluster\'s default strategy). Pass autoScalingGroups: the signal may only reach the workers\' instances.',
      ]),
    });
    acknowledgeWildcards(this, [
      { finding: /^Resource::\*$/, reason: 'cloudwatch:GetMetricData has no resource-level permissions; the watchdog only reads task memory with it.' },
      { finding: /^Resource::arn:.*:ecs:.*:(task|container-instance)\/.*\/\*$/, reason: 'Task and container instance ARNs are only known at run time; the statements are limited to the watched clusters by the ecs:cluster condition.' },
      { finding: /^Resource::arn:.*:ec2:.*:instance\/\*$/, reason: 'Instance ids are only known at run time; the signal document may only run on instances of the workers\' Auto Scaling groups (their aws:autoscaling:groupName tag).' },
    ]);
  }

  /** The given groups, else those behind the capacity providers the watched services place their tasks with. */
  private workerGroups(props: WorkerWatchdogProps): autoscaling.IAutoScalingGroup[] {
    if (props.autoScalingGroups && props.autoScalingGroups.length > 0) return props.autoScalingGroups;
    const stack = Stack.of(this);
    const resolvedName = (v: unknown) => JSON.stringify(stack.resolve(v));
    const providers = this.node.root.node.findAll().filter((c): c is ecs.AsgCapacityProvider => c instanceof ecs.AsgCapacityProvider);
    const wanted = new Set<string>();
    for (const w of props.services) {
      const cfn = w.service.service.node.findAll().find((c): c is ecs.CfnService => c instanceof ecs.CfnService);
      const strategy = (stack.resolve(cfn?.capacityProviderStrategy) ?? []) as Array<{ CapacityProvider?: unknown; capacityProvider?: unknown }>;
      if (strategy.length === 0) {
        // Launch type EC2 (or the cluster's default strategy): the tasks may land on any instance
        // the cluster's capacity providers register.
        const cluster = w.service.service.cluster;
        if (cluster instanceof ecs.Cluster) for (const name of cluster.capacityProviderNames) wanted.add(resolvedName(name));
      }
      for (const s of strategy) wanted.add(JSON.stringify(s.CapacityProvider ?? s.capacityProvider));
    }
    const groups = providers.filter((p) => wanted.has(resolvedName(p.capacityProviderName))).map((p) => p.autoScalingGroup);
    return [...new Set(groups)];
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
      requireIntegerInRange(this, `${at}.expectedWorkers`, w.expectedWorkers, EXPECTED_WORKERS.min, EXPECTED_WORKERS.max);
      const mib = w.maxMemory?.toMebibytes();
      if (mib !== undefined && !Token.isUnresolved(mib) && !(Number.isInteger(mib) && mib >= MAX_MEMORY_MIB.min && mib <= MAX_MEMORY_MIB.max)) {
        invalidProp(this, `${at}.maxMemory`, `${mib} MiB`, `must be a whole number of MiB from ${MAX_MEMORY_MIB.min} to ${MAX_MEMORY_MIB.max}`, 'Set the memory a healthy worker stays under.');
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
