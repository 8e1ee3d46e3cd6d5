// Drain-before-terminate: container instances of ASG instances waiting in the termination lifecycle
// hook are set to DRAINING; the hook is completed only once an instance runs no tasks.
import { AutoScalingClient, CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand } from '@aws-sdk/client-auto-scaling';
import {
  ContainerInstance, DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand, UpdateContainerInstancesStateCommand,
} from '@aws-sdk/client-ecs';
import { Log, chunk, describeError, isThrottling } from '../shared/runtime';

/** UpdateContainerInstancesState takes at most 10 container instances per call. */
export const DRAIN_BATCH = 10;
/** DescribeContainerInstances takes at most 100 per call. */
const DESCRIBE_BATCH = 100;
const WAITING_STATE = 'Terminating:Wait';

export interface DrainerConfig {
  readonly cluster: string;
  readonly autoScalingGroupName: string;
  readonly lifecycleHookName: string;
}

export interface DrainerDeps {
  readonly ecs: Pick<ECSClient, 'send'>;
  readonly autoScaling: Pick<AutoScalingClient, 'send'>;
  readonly log: Log;
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
  readonly skippedBecause?: string;
}

const empty = (terminating: string[] = []): SweepOutcome => ({ terminating, setDraining: [], completed: [], waiting: [] });

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

async function containerInstancesFor(config: DrainerConfig, deps: DrainerDeps, ec2Ids: readonly string[]): Promise<Map<string, ContainerInstance>> {
  const arns: string[] = [];
  let nextToken: string | undefined;
  const filter = `ec2InstanceId in [${ec2Ids.map((id) => `'${id}'`).join(', ')}]`;
  do {
    const page = await deps.ecs.send(new ListContainerInstancesCommand({ cluster: config.cluster, filter, nextToken }));
    arns.push(...(page.containerInstanceArns ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  const wanted = new Set(ec2Ids);
  const byEc2Id = new Map<string, ContainerInstance>();
  for (const batch of chunk(arns, DESCRIBE_BATCH)) {
    const out = await deps.ecs.send(new DescribeContainerInstancesCommand({ cluster: config.cluster, containerInstances: batch }));
    // A listed instance ECS could not describe is unknown, not absent: never release its hook on that.
    if ((out.failures ?? []).length > 0) {
      throw new Error(`DescribeContainerInstances failed for ${out.failures!.map((f) => `${f.arn} (${f.reason})`).join(', ')}`);
    }
    // The filter is applied again here: the ec2InstanceId is what ties an ECS instance to the hook.
    for (const ci of out.containerInstances ?? []) {
      if (ci.ec2InstanceId && wanted.has(ci.ec2InstanceId)) byEc2Id.set(ci.ec2InstanceId, ci);
    }
  }
  return byEc2Id;
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
  let current: Map<string, ContainerInstance>;
  try {
    const before = await containerInstancesFor(config, deps, terminating);
    const toDrain = [...before.values()].filter((ci) => ci.status === 'ACTIVE').map((ci) => ci.containerInstanceArn!);
    for (const batch of chunk(toDrain, DRAIN_BATCH)) {
      const out = await deps.ecs.send(new UpdateContainerInstancesStateCommand({ cluster: config.cluster, containerInstances: batch, status: 'DRAINING' }));
      for (const failure of out.failures ?? []) deps.log.warn('ECS refused to drain a container instance', { arn: failure.arn, reason: failure.reason });
      setDraining.push(...(out.containerInstances ?? []).map((ci) => ci.ec2InstanceId ?? ci.containerInstanceArn ?? '?'));
    }
    if (setDraining.length > 0) deps.log.info('Set container instances to DRAINING', { instances: setDraining });
    // Counts are read again after draining: a task placed between the first read and DRAINING must be seen.
    current = await containerInstancesFor(config, deps, terminating);
  } catch (err) {
    const reason = isThrottling(err) ? 'ECS throttled the drainer' : 'an ECS call failed';
    deps.log.warn(`Completed nothing: ${reason}; the next pass retries`, { terminating, ...describeError(err) });
    return { ...empty(terminating), setDraining, skippedBecause: reason };
  }

  const completed: string[] = [];
  const waiting: string[] = [];
  for (const instanceId of terminating) {
    const ci = current.get(instanceId);
    const running = ci?.runningTasksCount ?? 0;
    const pending = ci?.pendingTasksCount ?? 0;
    if (ci && (ci.status !== 'DRAINING' || running > 0 || pending > 0)) {
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
  return { terminating, setDraining, completed, waiting };
}
