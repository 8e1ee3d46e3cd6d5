// Graceful worker recycling: tasks whose memory exceeds the limit get the job runner's "stop taking
// work" signal through the watchdog's own SSM document (one signal, one container, one task), and are
// stopped after a grace period so the service replaces them.
import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand, Task,
} from '@aws-sdk/client-ecs';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Log, chunk, describeError, isThrottling } from '../shared/runtime';
import { CONTAINER_NAME, LIMITS, SIGNAL_NAME, TASK_ARN, WatchdogConfig, WatchedService } from './config';

const DESCRIBE_TASKS_BATCH = 100;
const METRIC_QUERIES_BATCH = 500;
const DESCRIBE_CONTAINER_INSTANCES_BATCH = 100;
/** How far back a memory sample may be: Container Insights publishes one a minute. */
const MEMORY_LOOKBACK_SECONDS = 300;

export interface WatchdogDeps {
  readonly ecs: Pick<ECSClient, 'send'>;
  readonly ssm: Pick<SSMClient, 'send'>;
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly log: Log;
  readonly now: () => number;
}

export interface ServiceOutcome {
  readonly service: string;
  readonly signalled: string[];
  readonly stopped: string[];
  readonly skippedBecause?: string;
}

export interface Limits {
  readonly maxMemoryMiB: number;
  readonly expectedWorkers: number;
}

/** taskArn → epoch seconds of the signal. Kept in Parameter Store so a task is never signalled twice. */
type SignalledState = Record<string, number>;

export const parameterNames = (prefix: string) => ({
  maxMemory: `${prefix}/max-memory-mib`,
  expectedWorkers: `${prefix}/expected-workers`,
  signalled: `${prefix}/signalled`,
});

/** Strict: digits only (`^\d+$`, no sign, spaces, hex or exponent) and within the documented bounds. */
export function parseLimit(name: string, raw: string | undefined, bounds: { readonly min: number; readonly max: number }): number | string {
  if (raw === undefined) return `${name} is missing`;
  if (!/^\d+$/.test(raw)) return `${name} (${JSON.stringify(raw)}) is not a whole number written in digits`;
  const value = Number(raw);
  if (value < bounds.min || value > bounds.max) return `${name} (${raw}) is outside its documented range ${bounds.min}-${bounds.max}`;
  return value;
}

async function readLimits(svc: WatchedService, deps: WatchdogDeps): Promise<Limits | string> {
  const names = parameterNames(svc.parameterPrefix);
  const out = await deps.ssm.send(new GetParametersCommand({ Names: [names.maxMemory, names.expectedWorkers] }));
  const values = new Map((out.Parameters ?? []).map((p) => [p.Name, p.Value]));
  if (!values.has(names.maxMemory) || !values.has(names.expectedWorkers)) {
    return `limits missing in Parameter Store (${[names.maxMemory, names.expectedWorkers].filter((n) => !values.has(n)).join(', ')})`;
  }
  const maxMemoryMiB = parseLimit(names.maxMemory, values.get(names.maxMemory), LIMITS.maxMemoryMiB);
  if (typeof maxMemoryMiB === 'string') return maxMemoryMiB;
  const expectedWorkers = parseLimit(names.expectedWorkers, values.get(names.expectedWorkers), LIMITS.expectedWorkers);
  if (typeof expectedWorkers === 'string') return expectedWorkers;
  return { maxMemoryMiB, expectedWorkers };
}

async function runningTasks(svc: WatchedService, deps: WatchdogDeps): Promise<Task[]> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await deps.ecs.send(new ListTasksCommand({ cluster: svc.cluster, serviceName: svc.service, desiredStatus: 'RUNNING', nextToken }));
    arns.push(...(page.taskArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const tasks: Task[] = [];
  for (const batch of chunk(arns, DESCRIBE_TASKS_BATCH)) {
    const out = await deps.ecs.send(new DescribeTasksCommand({ cluster: svc.cluster, tasks: batch }));
    // A listed task ECS could not describe would look gone: its signalled state would be forgotten.
    if ((out.failures ?? []).length > 0) {
      throw new Error(`DescribeTasks failed for ${out.failures!.map((f) => `${f.arn} (${f.reason})`).join(', ')}`);
    }
    tasks.push(...(out.tasks ?? []));
  }
  // The service group is checked again: only this service's running tasks may be touched.
  return tasks.filter((t) => t.group === `service:${svc.service}` && t.lastStatus === 'RUNNING' && t.desiredStatus === 'RUNNING');
}

/** The signalled state and the Parameter Store version it was read at (0: the parameter does not exist yet). */
interface StoredState {
  readonly signalled: SignalledState;
  readonly version: number;
}

/** Another run wrote the signalled state since this run read it: this run must not signal anything. */
export class StateConflict extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateConflict';
  }
}

async function readState(svc: WatchedService, deps: WatchdogDeps): Promise<StoredState> {
  try {
    const out = await deps.ssm.send(new GetParameterCommand({ Name: parameterNames(svc.parameterPrefix).signalled }));
    const parsed = JSON.parse(out.Parameter?.Value ?? '{}') as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('signalled state is not a JSON object');
    // A time that is not a number would make every grace period look over (NaN comparisons): refuse it.
    const bad = Object.entries(parsed).filter(([, at]) => typeof at !== 'number' || !Number.isFinite(at)).map(([arn]) => arn);
    if (bad.length > 0) throw new Error(`signalled state has no valid signal time for ${bad.join(', ')}`);
    const version = out.Parameter?.Version;
    if (typeof version !== 'number' || version < 1) throw new Error('Parameter Store returned the signalled state without a version');
    return { signalled: parsed as SignalledState, version };
  } catch (err) {
    if (err instanceof Error && err.name === 'ParameterNotFound') return { signalled: {}, version: 0 };
    throw err;
  }
}

/**
 * Versioned write: succeeds only when the state is still at `version`, and returns the new version.
 * The first write creates the parameter without Overwrite (atomic: a second creator gets
 * ParameterAlreadyExists); later writes check the version before writing and that the write produced
 * exactly the next one. Two overlapping runs therefore cannot both record (and then send) a signal.
 */
async function writeState(svc: WatchedService, deps: WatchdogDeps, state: SignalledState, version: number): Promise<number> {
  const name = parameterNames(svc.parameterPrefix).signalled;
  if (version > 0) {
    const current = await deps.ssm.send(new GetParameterCommand({ Name: name }));
    if (current.Parameter?.Version !== version) {
      throw new StateConflict(`the signalled state is at version ${current.Parameter?.Version}, not the ${version} this run read`);
    }
  }
  const sorted = Object.fromEntries(Object.entries(state).sort(([a], [b]) => a.localeCompare(b)));
  let written: number | undefined;
  try {
    const out = await deps.ssm.send(new PutParameterCommand({ Name: name, Value: JSON.stringify(sorted), Type: 'String', Overwrite: version > 0 }));
    written = out.Version;
  } catch (err) {
    if (err instanceof Error && err.name === 'ParameterAlreadyExists') throw new StateConflict('another run created the signalled state first');
    throw err;
  }
  if (written !== version + 1) throw new StateConflict(`writing the signalled state produced version ${written}, not ${version + 1}: another run wrote it too`);
  return written;
}

const taskId = (arn: string): string => arn.split('/').pop()!;
const family = (task: Task): string => (task.taskDefinitionArn ?? '').split('/').pop()!.split(':')[0];

/** Latest memory sample (MiB) per task ARN from Container Insights (enhanced observability, task level). */
async function memoryByTask(svc: WatchedService, config: WatchdogConfig, tasks: readonly Task[], deps: WatchdogDeps): Promise<Map<string, number>> {
  const memory = new Map<string, number>();
  const end = new Date(Math.floor(deps.now() / 60000) * 60000);
  const start = new Date(end.getTime() - MEMORY_LOOKBACK_SECONDS * 1000);
  for (const batch of chunk(tasks, METRIC_QUERIES_BATCH)) {
    const queries: MetricDataQuery[] = batch.map((task, i) => ({
      Id: `m${i}`,
      ReturnData: true,
      MetricStat: {
        Metric: {
          Namespace: config.memoryNamespace,
          MetricName: config.memoryMetricName,
          Dimensions: [
            { Name: 'ClusterName', Value: svc.cluster },
            { Name: 'TaskDefinitionFamily', Value: family(task) },
            { Name: 'TaskId', Value: taskId(task.taskArn!) },
          ],
        },
        Period: 60,
        Stat: 'Maximum',
      },
    }));
    const out = await deps.cloudwatch.send(new GetMetricDataCommand({ MetricDataQueries: queries, StartTime: start, EndTime: end, ScanBy: 'TimestampDescending' }));
    for (const result of out.MetricDataResults ?? []) {
      const index = Number(result.Id?.slice(1));
      const values = result.Values ?? [];
      const timestamps = result.Timestamps ?? [];
      if (values.length === 0) continue;
      // Newest sample first (ScanBy), but do not rely on the peer honouring it.
      let newest = 0;
      for (let i = 1; i < values.length; i++) if ((timestamps[i]?.getTime() ?? 0) > (timestamps[newest]?.getTime() ?? 0)) newest = i;
      // A negative, zero or non-finite sample is not a measurement: the task is left alone.
      if (!Number.isFinite(values[newest]) || values[newest] <= 0 || !batch[index]) continue;
      memory.set(batch[index].taskArn!, values[newest]);
    }
  }
  return memory;
}

/** The SSM document parameters for one signal; refuses anything the document's allowedPattern would refuse too. */
export function signalParameters(taskArn: string, container: string, signal: string): Record<string, string[]> {
  if (!TASK_ARN.test(taskArn) || !CONTAINER_NAME.test(container) || !SIGNAL_NAME.test(signal)) {
    throw new Error(`refusing to signal with unexpected input (task ${JSON.stringify(taskArn)}, container ${JSON.stringify(container)}, signal ${JSON.stringify(signal)})`);
  }
  return { taskArn: [taskArn], containerName: [container], signal: [signal] };
}

/** EC2 instance id per container instance ARN, in chunks of 100 (the API limit); instances ECS could not describe are left out. */
async function instancesOf(svc: WatchedService, tasks: readonly Task[], deps: WatchdogDeps): Promise<Map<string, string>> {
  const instanceOf = new Map<string, string>();
  const arns = [...new Set(tasks.map((t) => t.containerInstanceArn).filter((a): a is string => !!a))].sort();
  for (const batch of chunk(arns, DESCRIBE_CONTAINER_INSTANCES_BATCH)) {
    const out = await deps.ecs.send(new DescribeContainerInstancesCommand({ cluster: svc.cluster, containerInstances: batch }));
    for (const f of out.failures ?? []) deps.log.warn('ECS could not describe a container instance; its tasks are not signalled', { arn: f.arn, reason: f.reason });
    for (const ci of out.containerInstances ?? []) {
      if (ci.containerInstanceArn && ci.ec2InstanceId && batch.includes(ci.containerInstanceArn)) instanceOf.set(ci.containerInstanceArn, ci.ec2InstanceId);
    }
  }
  return instanceOf;
}

export async function checkService(svc: WatchedService, config: WatchdogConfig, deps: WatchdogDeps): Promise<ServiceOutcome> {
  const signalled: string[] = [];
  const stopped: string[] = [];
  const skip = (reason: string, extra: object = {}): ServiceOutcome => {
    deps.log.warn(`Signalled nothing more: ${reason}`, { ecsService: svc.service, reason, ...extra });
    return { service: svc.service, signalled, stopped, skippedBecause: reason };
  };
  const nowSeconds = Math.floor(deps.now() / 1000);

  let limits: Limits | string;
  try {
    limits = await readLimits(svc, deps);
  } catch (err) {
    return skip('the limits could not be read from Parameter Store', describeError(err));
  }
  if (typeof limits === 'string') return skip(limits);

  let tasks: Task[];
  let stored: StoredState;
  try {
    tasks = await runningTasks(svc, deps);
    stored = await readState(svc, deps);
  } catch (err) {
    return skip(isThrottling(err) ? 'ECS or SSM throttled the watchdog' : 'listing tasks or reading the signalled state failed', describeError(err));
  }
  let version = stored.version;
  const nextState: SignalledState = {};
  const save = async (): Promise<void> => {
    version = await writeState(svc, deps, nextState, version);
  };
  const failed = (what: string, err: unknown): ServiceOutcome => skip(err instanceof StateConflict
    ? 'another watchdog run changed the signalled state at the same time (single-flight)'
    : `${what} failed`, describeError(err));

  // Forget tasks that are gone; the rest stay recorded (and out of service) until ECS stops them.
  const running = new Set(tasks.map((t) => t.taskArn!));
  for (const [arn, at] of Object.entries(stored.signalled)) if (running.has(arn)) nextState[arn] = at;
  if (Object.keys(nextState).length !== Object.keys(stored.signalled).length) {
    try {
      await save();
    } catch (err) {
      return failed('saving the signalled state', err);
    }
  }
  for (const [arn, at] of Object.entries(nextState).sort()) {
    if (nowSeconds - at < config.gracePeriodSeconds) continue;
    try {
      await deps.ecs.send(new StopTaskCommand({ cluster: svc.cluster, task: arn, reason: `worker-watchdog: over the memory limit; stopped ${config.gracePeriodSeconds}s after SIG${config.signal}` }));
      stopped.push(arn);
      deps.log.info('Stopped a signalled task after its grace period', { ecsService: svc.service, taskArn: arn });
    } catch (err) {
      deps.log.warn('StopTask failed; the next run retries', { taskArn: arn, ...describeError(err) });
    }
  }

  // One budget per service: every task the watchdog signalled or stopped is out of service until ECS
  // reports it gone, and counts against both the share and expectedWorkers.
  const budget = Math.floor((tasks.length * config.maxSignalledPercent) / 100);
  let outOfService = Object.keys(nextState).length;
  let inService = tasks.length - outOfService;
  const candidates = tasks.filter((t) => nextState[t.taskArn!] === undefined);
  if (outOfService >= budget) return skip(`the signalling share is used up (${outOfService} of ${tasks.length} task(s) signalled or stopped, ${config.maxSignalledPercent}% allows ${budget})`);
  if (inService - 1 < limits.expectedWorkers) {
    return skip(`${inService} worker task(s) in service; signalling one more would leave fewer than the expected ${limits.expectedWorkers}`);
  }

  let memory: Map<string, number>;
  try {
    memory = await memoryByTask(svc, config, candidates, deps);
  } catch (err) {
    return skip(isThrottling(err) ? 'CloudWatch throttled GetMetricData' : 'GetMetricData failed', describeError(err));
  }
  const noData = candidates.filter((t) => !memory.has(t.taskArn!)).map((t) => t.taskArn!);
  if (noData.length > 0) deps.log.info('No usable memory data for some tasks; they are left alone', { ecsService: svc.service, tasks: noData });

  const over = candidates
    .filter((t) => (memory.get(t.taskArn!) ?? -Infinity) > limits.maxMemoryMiB)
    .sort((a, b) => memory.get(b.taskArn!)! - memory.get(a.taskArn!)! || a.taskArn!.localeCompare(b.taskArn!));
  if (over.length === 0) {
    deps.log.debug('No task is over the memory limit', { ecsService: svc.service, maxMemoryMiB: limits.maxMemoryMiB });
    return { service: svc.service, signalled, stopped };
  }

  let instanceOf: Map<string, string>;
  try {
    instanceOf = await instancesOf(svc, over.slice(0, budget - outOfService), deps);
  } catch (err) {
    return skip(isThrottling(err) ? 'ECS throttled DescribeContainerInstances' : 'DescribeContainerInstances failed', describeError(err));
  }

  for (const task of over) {
    // Checked before every signal, not once: each signal takes one more worker out of service.
    if (outOfService >= budget) {
      deps.log.info('More tasks are over the limit than the signalling share allows; the rest wait for a later run', {
        ecsService: svc.service, over: over.length, outOfService, allowed: budget, maxSignalledPercent: config.maxSignalledPercent, runningTasks: tasks.length,
      });
      break;
    }
    if (inService - 1 < limits.expectedWorkers) {
      deps.log.info('Signalling another task would leave fewer workers in service than expected; the rest wait', { ecsService: svc.service, inService, expectedWorkers: limits.expectedWorkers });
      break;
    }
    const arn = task.taskArn!;
    const instanceId = task.containerInstanceArn ? instanceOf.get(task.containerInstanceArn) : undefined;
    if (!instanceId) {
      deps.log.warn('Task has no described EC2 container instance to signal through; left alone', { taskArn: arn });
      continue;
    }
    let parameters: Record<string, string[]>;
    try {
      parameters = signalParameters(arn, svc.container, config.signal);
    } catch (err) {
      deps.log.error('Not signalling', { taskArn: arn, ...describeError(err) });
      continue;
    }
    // The state is written (versioned) before the signal: a crash in between leaves a task unsignalled,
    // never signalled twice, and a concurrent run's write makes this one stop here.
    nextState[arn] = nowSeconds;
    try {
      await save();
    } catch (err) {
      delete nextState[arn];
      return failed('saving the signalled state', err);
    }
    try {
      await deps.ssm.send(new SendCommandCommand({
        DocumentName: config.signalDocument,
        InstanceIds: [instanceId],
        Comment: `worker-watchdog SIG${config.signal} ${svc.service}`.slice(0, 100),
        Parameters: parameters,
        TimeoutSeconds: 60,
      }));
      signalled.push(arn);
      outOfService++;
      inService--;
      deps.log.info(`Sent SIG${config.signal} to an over-limit worker; it will be stopped after the grace period`, {
        ecsService: svc.service, taskArn: arn, instanceId, memoryMiB: memory.get(arn), maxMemoryMiB: limits.maxMemoryMiB, gracePeriodSeconds: config.gracePeriodSeconds,
      });
    } catch (err) {
      delete nextState[arn];
      deps.log.warn('SendCommand failed; the task is left running and unsignalled', { taskArn: arn, ...describeError(err) });
      try {
        await save();
      } catch (saveErr) {
        return failed('removing the unsent signal from the state', saveErr);
      }
    }
  }
  return { service: svc.service, signalled, stopped };
}

export async function watch(config: WatchdogConfig, deps: WatchdogDeps): Promise<ServiceOutcome[]> {
  const outcomes: ServiceOutcome[] = [];
  // Services one after another: a throttled account is not hit by every service at once.
  for (const svc of config.services) outcomes.push(await checkService(svc, config, deps));
  return outcomes;
}
