// Drain-before-terminate: container instances of ASG instances waiting in the termination lifecycle
// hook are set to DRAINING; the hook is completed only once an instance runs no tasks.
import {
  AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand, RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  ContainerInstance, DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand, UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { Log, chunk, describeError, isThrottling } from '../shared/runtime';

/** UpdateContainerInstancesState takes at most 10 container instances per call. */
export const DRAIN_BATCH = 10;
/** DescribeContainerInstances takes at most 100 per call. */
const DESCRIBE_BATCH = 100;
/**
 * EC2 instance ids per ListContainerInstances filter: 20 ids keep the cluster query expression
 * near 500 characters (150 ids in one filter were 3,467), and a rejected filter holds back only its 20.
 */
export const FILTER_BATCH = 20;
const WAITING_STATE = 'Terminating:Wait';

export interface DrainerConfig {
  readonly cluster: string;
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
  /**
   * How long heartbeats may keep an instance in Terminating:Wait while tasks remain. After that no
   * heartbeat is sent and the hook's heartbeat timeout (CONTINUE) ends the wait: an instance waits at
   * most maxDrainSeconds + the heartbeat timeout.
   */
  readonly maxDrainSeconds: number;
}

export interface DrainerDeps {
  readonly ecs: Pick<ECSClient, 'send'>;
  readonly autoScaling: Pick<AutoScalingClient, 'send'>;
  readonly log: Log;
  readonly now: () => number;
}

/** The `detail` of an "EC2 Instance-terminate Lifecycle Action" EventBridge event. */
export interface LifecycleActionDetail {
  readonly AutoScalingGroupName?: string;
  readonly LifecycleHookName?: string;
  readonly EC2InstanceId?: string;
  readonly LifecycleTransition?: string;
}

export interface SweepOutcome {
  readonly terminating: string[];
  readonly setDraining: string[];
  readonly completed: string[];
  readonly waiting: string[];
  /** Waiting instances whose wait was extended by a lifecycle heartbeat. */
  readonly heartbeats: string[];
  readonly skippedBecause?: string;
}

const empty = (terminating: string[] = []): SweepOutcome => ({ terminating, setDraining: [], completed: [], waiting: [], heartbeats: [] });

/** Instance ids waiting in our hook: from the ASG, plus the one the triggering event names. */
async function terminatingInstances(config: DrainerConfig, deps: DrainerDeps, detail?: LifecycleActionDetail): Promise<string[]> {
  const out = await deps.autoScaling.send(new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: [config.autoScalingGroupName] }));
  const ids = new Set<string>();
  for (const group of out.AutoScalingGroups ?? []) {
    for (const instance of group.Instances ?? []) {
      if (instance.LifecycleState === WAITING_STATE && instance.InstanceId) ids.add(instance.InstanceId);
    }
  }
  if (detail?.EC2InstanceId && detail.AutoScalingGroupName === config.autoScalingGroupName && detail.LifecycleHookName === config.lifecycleHookName) {
    ids.add(detail.EC2InstanceId);
  }
  return [...ids].sort();
}

/** What ECS positively reported about the terminating instances. */
interface EcsView {
  /** Described container instances by EC2 instance id. */
  readonly described: Map<string, ContainerInstance>;
  /** Instances ECS answered about without listing them: never registered (or deregistered). */
  readonly unregistered: Set<string>;
  /** Instances ECS did not answer about (a call failed, or a listed instance went undescribed): never released. */
  readonly unknown: Set<string>;
}

async function describeChunk(config: DrainerConfig, deps: DrainerDeps, ec2Ids: readonly string[], view: EcsView): Promise<void> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  const filter = `ec2InstanceId in [${ec2Ids.map((id) => `'${id}'`).join(', ')}]`;
  do {
    const page = await deps.ecs.send(new ListContainerInstancesCommand({ cluster: config.cluster, filter, nextToken }));
    arns.push(...(page.containerInstanceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const wanted = new Set(ec2Ids);
  const found = new Map<string, ContainerInstance>();
  for (const batch of chunk(arns, DESCRIBE_BATCH)) {
    const out = await deps.ecs.send(new DescribeContainerInstancesCommand({ cluster: config.cluster, containerInstances: batch }));
    // A listed instance ECS could not describe is unknown, not absent: never release its hook on that.
    if ((out.failures ?? []).length > 0) {
      throw new Error(`DescribeContainerInstances failed for ${out.failures!.map((f) => `${f.arn} (${f.reason})`).join(', ')}`);
    }
    // The filter is applied again here: the ec2InstanceId is what ties an ECS instance to the hook.
    for (const ci of out.containerInstances ?? []) {
      if (ci.ec2InstanceId && wanted.has(ci.ec2InstanceId) && batch.includes(ci.containerInstanceArn ?? '')) found.set(ci.ec2InstanceId, ci);
    }
  }
  // Every listed ARN must come back as one of the asked instances; one that does not may be any of them.
  const matched = new Set([...found.values()].map((ci) => ci.containerInstanceArn));
  const undescribed = arns.filter((arn) => !matched.has(arn)).length;
  for (const id of ec2Ids) {
    const ci = found.get(id);
    if (ci) view.described.set(id, ci);
    // A listed ARN went undescribed without a failure entry: it may be this instance, so it is unknown.
    else if (undescribed > 0) view.unknown.add(id);
    else view.unregistered.add(id);
  }
  if (undescribed > 0) deps.log.warn('ECS listed container instances it did not describe (no failure given); their EC2 instances are not released', { undescribed, instances: ec2Ids.filter((id) => view.unknown.has(id)) });
}

/** Reads ECS for the instances in bounded chunks; a chunk that fails leaves only its instances unknown. */
async function ecsView(config: DrainerConfig, deps: DrainerDeps, ec2Ids: readonly string[]): Promise<EcsView> {
  const view: EcsView = { described: new Map(), unregistered: new Set(), unknown: new Set() };
  for (const ids of chunk(ec2Ids, FILTER_BATCH)) {
    try {
      await describeChunk(config, deps, ids, view);
    } catch (err) {
      ids.forEach((id) => view.unknown.add(id));
      const reason = isThrottling(err) ? 'ECS throttled the drainer' : 'an ECS call failed';
      deps.log.warn(`Completed nothing for these instances: ${reason}; the next pass retries`, { reason, instances: ids, ...describeError(err) });
    }
  }
  return view;
}

/** When each instance entered the termination wait, from the group's scaling activities (newest first, two pages at most). */
async function waitStarts(config: DrainerConfig, deps: DrainerDeps, ids: readonly string[]): Promise<Map<string, number>> {
  const starts = new Map<string, number>();
  let nextToken: string | undefined;
  for (let page = 0; page < 2 && starts.size < ids.length; page++) {
    const out = await deps.autoScaling.send(new DescribeScalingActivitiesCommand({ AutoScalingGroupName: config.autoScalingGroupName, MaxRecords: 100, NextToken: nextToken }));
    for (const activity of out.Activities ?? []) {
      const id = ids.find((i) => (activity.Description ?? '').includes(i));
      if (id && activity.StartTime && !starts.has(id)) starts.set(id, activity.StartTime.getTime());
    }
    nextToken = out.NextToken;
    if (!nextToken) break;
  }
  return starts;
}

/**
 * One pass, safe to repeat: it runs on every lifecycle event and every minute until each waiting
 * instance is empty. Any error stops the pass before a lifecycle action is completed.
 */
export async function sweep(config: DrainerConfig, deps: DrainerDeps, detail?: LifecycleActionDetail): Promise<SweepOutcome> {
  let terminating: string[];
  try {
    terminating = await terminatingInstances(config, deps, detail);
  } catch (err) {
    const reason = isThrottling(err) ? 'Auto Scaling throttled DescribeAutoScalingGroups' : 'DescribeAutoScalingGroups failed';
    deps.log.warn(`Completed nothing: ${reason}`, describeError(err));
    return { ...empty(), skippedBecause: reason };
  }
  if (terminating.length === 0) {
    deps.log.debug('No instance is waiting in the termination hook');
    return empty();
  }

  const setDraining: string[] = [];
  const before = await ecsView(config, deps, terminating);
  const toDrain = [...before.described.values()].filter((ci) => ci.status === 'ACTIVE').map((ci) => ci.containerInstanceArn!);
  for (const batch of chunk(toDrain, DRAIN_BATCH)) {
    try {
      const out = await deps.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: config.cluster, containerInstances: batch, status: 'DRAINING' }));
      for (const failure of out.failures ?? []) deps.log.warn('ECS refused to drain a container instance', { arn: failure.arn, reason: failure.reason });
      setDraining.push(...(out.containerInstances ?? []).map((ci) => ci.ec2InstanceId ?? ci.containerInstanceArn ?? '?'));
    } catch (err) {
      deps.log.warn('Setting container instances to DRAINING failed; the next pass retries', { containerInstances: batch, ...describeError(err) });
    }
  }
  if (setDraining.length > 0) deps.log.info('Set container instances to DRAINING', { instances: setDraining });
  // Counts are read again after draining: a task placed between the first read and DRAINING must be seen.
  const current = await ecsView(config, deps, terminating);

  const completed: string[] = [];
  const waiting: string[] = [];
  for (const instanceId of terminating) {
    const ci = current.described.get(instanceId);
    if (current.unknown.has(instanceId)) {
      waiting.push(instanceId);
      continue;
    }
    const running = ci?.runningTasksCount;
    const pending = ci?.pendingTasksCount;
    // Released only on a positive report: DRAINING with both counts present and zero, or never registered.
    if (ci && (ci.status !== 'DRAINING' || running !== 0 || pending !== 0)) {
      deps.log.info('Waiting for the container instance to empty', { instanceId, status: ci.status, runningTasksCount: running, pendingTasksCount: pending });
      waiting.push(instanceId);
      continue;
    }
    if (!ci) deps.log.info('Instance is not registered in the cluster; nothing to drain', { instanceId });
    try {
      await deps.autoScaling.send(new CompleteLifecycleActionCommand({
        AutoScalingGroupName: config.autoScalingGroupName,
        LifecycleHookName: config.lifecycleHookName,
        InstanceId: instanceId,
        LifecycleActionResult: 'CONTINUE',
      }));
      completed.push(instanceId);
      deps.log.info('Instance drained; lifecycle action completed (CONTINUE)', { instanceId });
    } catch (err) {
      deps.log.warn('CompleteLifecycleAction failed; the next pass retries', { instanceId, ...describeError(err) });
      waiting.push(instanceId);
    }
  }
  const heartbeats = await extendWaits(config, deps, waiting);
  const skippedBecause = waiting.some((id) => current.unknown.has(id)) ? 'ECS did not report on every terminating instance' : undefined;
  return { terminating, setDraining, completed, waiting, heartbeats, ...(skippedBecause ? { skippedBecause } : {}) };
}

/**
 * Heartbeats keep an instance that still runs tasks in Terminating:Wait, up to maxDrainSeconds after
 * its termination began; after that (or when the start is unknown) the hook's heartbeat timeout ends the wait.
 */
async function extendWaits(config: DrainerConfig, deps: DrainerDeps, waiting: readonly string[]): Promise<string[]> {
  if (waiting.length === 0) return [];
  let starts: Map<string, number>;
  try {
    starts = await waitStarts(config, deps, waiting);
  } catch (err) {
    deps.log.warn('Could not read when the instances started terminating; no heartbeat, the hook timeout bounds the wait', { instances: waiting, ...describeError(err) });
    return [];
  }
  const extended: string[] = [];
  for (const instanceId of waiting) {
    const start = starts.get(instanceId);
    const waitedSeconds = start === undefined ? undefined : Math.floor((deps.now() - start) / 1000);
    if (waitedSeconds === undefined || waitedSeconds >= config.maxDrainSeconds) {
      deps.log.warn('No heartbeat: the instance has waited its longest drain time (or its start is unknown); the hook timeout will terminate it', {
        instanceId, waitedSeconds, maxDrainSeconds: config.maxDrainSeconds,
      });
      continue;
    }
    try {
      await deps.autoScaling.send(new RecordLifecycleActionHeartbeatCommand({
        AutoScalingGroupName: config.autoScalingGroupName, LifecycleHookName: config.lifecycleHookName, InstanceId: instanceId,
      }));
      extended.push(instanceId);
    } catch (err) {
      deps.log.warn('RecordLifecycleActionHeartbeat failed; the hook timeout keeps running', { instanceId, ...describeError(err) });
    }
  }
  return extended;
}
