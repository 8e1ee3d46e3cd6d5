import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { ECSClient } from '@aws-sdk/client-ecs';
import { Logger } from '@aws-lambda-powertools/logger';
import { requiredEnv } from '../shared/runtime';
import { LifecycleActionDetail, sweep, SweepOutcome } from './drainer';

const logger = new Logger();
const ecs = new ECSClient({});
const autoScaling = new AutoScalingClient({});

/** Invoked by the termination lifecycle event and by a one-minute schedule (the wait loop). */
export const handler = async (event: { 'detail-type'?: string; detail?: LifecycleActionDetail }): Promise<SweepOutcome> => {
  const config = {
    cluster: requiredEnv('CLUSTER_NAME'),
    autoScalingGroupName: requiredEnv('AUTO_SCALING_GROUP_NAME'),
    lifecycleHookName: requiredEnv('LIFECYCLE_HOOK_NAME'),
    maxDrainSeconds: Number(requiredEnv('MAX_DRAIN_SECONDS')),
  };
  const detail = event?.['detail-type'] === 'EC2 Instance-terminate Lifecycle Action' ? event.detail : undefined;
  return sweep(config, { ecs, autoScaling, log: logger, now: Date.now }, detail);
};
