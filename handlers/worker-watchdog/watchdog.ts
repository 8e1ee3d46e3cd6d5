// Graceful worker recycling: tasks whose memory exceeds the limit get the job runner's "stop taking
// work" signal through SSM Run Command, and are stopped after a grace period so the service replaces them.
import { CloudWatchClient, GetMetricDataCommand, MetricDataQuery } from '@aws-sdk/client-cloudwatch';
import {
  DescribeContainerInstancesCommand, DescribeTasksCommand, ECSClient, ListTasksCommand, StopTaskCommand, Task,
} from '@aws-sdk/client-ecs';
import { GetParameterCommand, GetParametersCommand, PutParameterCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { Log, chunk, describeError, isThrottling } from '../shared/runtime';
import { CONTAINER_NAME, SIGNAL_NAME, TASK_ARN, WatchdogConfig, WatchedService } from './config';

const DESCRIBE_TASKS_BATCH = 100;
const METRIC_QUERIES_BATCH = 500;
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

async function readLimits(svc: WatchedService, deps: WatchdogDeps): Promise<Limits | string> {
  const names = parameterNames(svc.parameterPrefix);
  const out = await deps.ssm.send(new GetParametersCommand({ Names: [names.maxMemory, names.expectedWorkers] }));
  const values = new Map((out.Parameters ?? []).map((p) => [p.Name, p.Value]));
  const maxMemoryMiB = Number(values.get(names.maxMemory));
  const expectedWorkers = Number(values.get(names.expectedWorkers));
  if (!values.has(names.maxMemory) || !values.has(names.expectedWorkers)) {
    return `limits missing in Parameter Store (${(out.InvalidParameters ?? []).sort().join(', ')})`;
  }
  if (!Number.isFinite(maxMemoryMiB) || maxMemoryMiB <= 0) return `${names.maxMemory} (${values.get(names.maxMemory)}) is not a positive number`;
  if (!Number.isInteger(expectedWorkers) || expectedWorkers < 0) return `${names.expectedWorkers} (${values.get(names.expectedWorkers)}) is not a whole number`;
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

async function readState(svc: WatchedService, deps: WatchdogDeps): Promise<SignalledState> {
  try {
    const out = await deps.ssm.send(new GetParameterCommand({ Name: parameterNames(svc.parameterPrefix).signalled }));
    const parsed = JSON.parse(out.Parameter?.Value ?? '{}') as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('signalled state is not a JSON object');
    // A time that is not a number would make every grace period look over (NaN comparisons): refuse it.
    const bad = Object.entries(parsed).filter(([, at]) => typeof at !== 'number' || !Number.isFinite(at)).map(([arn]) => arn);
    if (bad.length > 0) throw new Error(`signalled state has no valid signal time for ${bad.join(', ')}`);
    return parsed as SignalledState;
  } catch (err) {
    if (err instanceof Error && err.name === 'ParameterNotFound') return {};
    throw err;
  }
}

async function writeState(svc: WatchedService, deps: WatchdogDeps, state: SignalledState): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(state).sort(([a], [b]) => a.localeCompare(b)));
  await deps.ssm.send(new PutParameterCommand({
    Name: parameterNames(svc.parameterPrefix).signalled, Value: JSON.stringify(sorted), Type: 'String', Overwrite: true,
  }));
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
      memory.set(batch[index].taskArn!, values[newest]);
    }
  }
  return memory;
}

/** The shell line Run Command executes on the container instance: only the named container of that one task. */
export function signalCommand(taskArn: string, container: string, signal: string): string {
  if (!TASK_ARN.test(taskArn) || !CONTAINER_NAME.test(container) || !SIGNAL_NAME.test(signal)) {
    throw new Error(`refusing to build a command from unexpected input (task ${JSON.stringify(taskArn)}, container ${JSON.stringify(container)}, signal ${JSON.stringify(signal)})`);
  }
  return `docker ps --quiet --filter "label=com.amazonaws.ecs.task-arn=${taskArn}" --filter "label=com.amazonaws.ecs.container-name=${container}" `
    + `| xargs --no-run-if-empty docker kill --signal=${signal}`;
}

export async function checkService(svc: WatchedService, config: WatchdogConfig, deps: WatchdogDeps): Promise<ServiceOutcome> {
  const signalled: string[] = [];
  const stopped: string[] = [];
  const skip = (reason: string, extra: object = {}): ServiceOutcome => {
    deps.log.warn(`Signalled nothing: ${reason}`, { ecsService: svc.service, reason, ...extra });
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
  let state: SignalledState;
  try {
    tasks = await runningTasks(svc, deps);
    state = await readState(svc, deps);
  } catch (err) {
    return skip(isThrottling(err) ? 'ECS or SSM throttled the watchdog' : 'listing tasks or reading the signalled state failed', describeError(err));
  }

  // Forget tasks that are gone; stop the ones whose grace period has passed.
  const running = new Set(tasks.map((t) => t.taskArn!));
  const nextState: SignalledState = Object.fromEntries(Object.entries(state).filter(([arn]) => running.has(arn)));
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
  const stillSignalled = Object.keys(nextState).filter((arn) => !stopped.includes(arn)).length;

  const candidates = tasks.filter((t) => nextState[t.taskArn!] === undefined);
  if (candidates.length < limits.expectedWorkers) {
    if (Object.keys(nextState).length !== Object.keys(state).length) await writeState(svc, deps, nextState).catch(() => undefined);
    return skip(`only ${candidates.length} unsignalled worker task(s) run, fewer than the expected ${limits.expectedWorkers}; not reducing capacity further`);
  }

  let memory: Map<string, number>;
  try {
    memory = await memoryByTask(svc, config, candidates, deps);
  } catch (err) {
    return skip(isThrottling(err) ? 'CloudWatch throttled GetMetricData' : 'GetMetricData failed', describeError(err));
  }
  const noData = candidates.filter((t) => !memory.has(t.taskArn!)).map((t) => t.taskArn!);
  if (noData.length > 0) deps.log.info('No memory data for some tasks; they are left alone', { ecsService: svc.service, tasks: noData });

  const over = candidates
    .filter((t) => (memory.get(t.taskArn!) ?? -Infinity) > limits.maxMemoryMiB)
    .sort((a, b) => memory.get(b.taskArn!)! - memory.get(a.taskArn!)! || a.taskArn!.localeCompare(b.taskArn!));
  const budget = Math.floor((tasks.length * config.maxSignalledPercent) / 100) - stillSignalled;
  if (over.length === 0) {
    if (stopped.length > 0 || Object.keys(nextState).length !== Object.keys(state).length) await writeState(svc, deps, nextState);
    deps.log.debug('No task is over the memory limit', { ecsService: svc.service, maxMemoryMiB: limits.maxMemoryMiB });
    return { service: svc.service, signalled, stopped };
  }
  const chosen = over.slice(0, Math.max(0, budget));
  if (chosen.length < over.length) {
    deps.log.info('More tasks are over the limit than the signalling share allows; the rest wait for a later run', {
      ecsService: svc.service, over: over.length, allowedNow: Math.max(0, budget), maxSignalledPercent: config.maxSignalledPercent, runningTasks: tasks.length,
    });
  }
  if (chosen.length === 0) {
    await writeState(svc, deps, nextState).catch(() => undefined);
    return { service: svc.service, signalled, stopped, skippedBecause: 'signalling share exhausted' };
  }

  let instanceOf: Map<string, string>;
  try {
    const ciArns = [...new Set(chosen.map((t) => t.containerInstanceArn).filter((a): a is string => !!a))];
    const out = ciArns.length === 0 ? { containerInstances: [] } : await deps.ecs.send(new DescribeContainerInstancesCommand({ cluster: svc.cluster, containerInstances: ciArns }));
    instanceOf = new Map((out.containerInstances ?? []).map((ci) => [ci.containerInstanceArn!, ci.ec2InstanceId!]));
  } catch (err) {
    return skip(isThrottling(err) ? 'ECS throttled DescribeContainerInstances' : 'DescribeContainerInstances failed', describeError(err));
  }

  for (const task of chosen) {
    const arn = task.taskArn!;
    const instanceId = task.containerInstanceArn ? instanceOf.get(task.containerInstanceArn) : undefined;
    if (!instanceId) {
      deps.log.warn('Task has no EC2 container instance to signal through; left alone', { taskArn: arn });
      continue;
    }
    let command: string;
    try {
      command = signalCommand(arn, svc.container, config.signal);
    } catch (err) {
      deps.log.error('Not signalling', { taskArn: arn, ...describeError(err) });
      continue;
    }
    // The state is written before the signal: a crash in between leaves a task unsignalled, never signalled twice.
    nextState[arn] = nowSeconds;
    try {
      await writeState(svc, deps, nextState);
    } catch (err) {
      delete nextState[arn];
      return skip('the signalled state could not be saved', { taskArn: arn, ...describeError(err) });
    }
    try {
      await deps.ssm.send(new SendCommandCommand({
        DocumentName: 'AWS-RunShellScript',
        InstanceIds: [instanceId],
        Comment: `worker-watchdog SIG${config.signal} ${svc.service}`.slice(0, 100),
        Parameters: { commands: [command] },
        TimeoutSeconds: 60,
      }));
      signalled.push(arn);
      deps.log.info(`Sent SIG${config.signal} to an over-limit worker; it will be stopped after the grace period`, {
        ecsService: svc.service, taskArn: arn, instanceId, memoryMiB: memory.get(arn), maxMemoryMiB: limits.maxMemoryMiB, gracePeriodSeconds: config.gracePeriodSeconds,
      });
    } catch (err) {
      delete nextState[arn];
      await writeState(svc, deps, nextState).catch(() => undefined);
      deps.log.warn('SendCommand failed; the task is left running and unsignalled', { taskArn: arn, ...describeError(err) });
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
