import { Duration, Size } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import {
  InstanceDraining,
  InstanceDrainingMechanism,
  NewRelicMetricBridge,
  NewRelicRegion,
  ServiceStepScaling,
  WorkerSignal,
  WorkerWatchdog,
} from '../../lib';
import type { RailsOnEcsStack } from './rails-on-ecs-stack';

/** Placeholder New Relic account of the example. */
const NEW_RELIC_ACCOUNT_ID = 1234567;

/** What {@link addScaling} adds to the Rails stack. */
export interface Scaling {
  /** New Relic (unicorn busy workers) → CloudWatch, once a minute. */
  readonly bridge: NewRelicMetricBridge;
  /** Web service step scaling on the busy-worker ratio. */
  readonly webScaling: ServiceStepScaling;
  /** Drain-before-terminate of the application cluster's On-Demand and Spot groups. */
  readonly draining: InstanceDraining[];
  /** Graceful recycling of over-memory Sidekiq workers. */
  readonly watchdog: WorkerWatchdog;
}

/**
 * The FiNC scaling pieces on the Rails platform: unicorn busy workers reported to New Relic drive
 * the web service through CloudWatch; EC2 scale-in drains instances first (ECS managed draining,
 * which the platform's capacity providers use); and a watchdog quiets Sidekiq workers that
 * outgrow their memory before stopping them, so no job is killed mid-way.
 */
export function addScaling(stack: RailsOnEcsStack): Scaling {
  // The user API key is created outside the stack; only its ARN reaches the function.
  const apiKeySecret = secretsmanager.Secret.fromSecretNameV2(stack, 'NewRelicApiKey', 'rails-on-ecs/newrelic-user-api-key');
  const bridge = new NewRelicMetricBridge(stack, 'NewRelicBridge', {
    accountId: NEW_RELIC_ACCOUNT_ID,
    apiKeySecret,
    region: NewRelicRegion.US,
    // The unicorn plugin reports busy and total workers per host; the ratio is what scaling needs.
    nrqlSelect: 'sum(unicorn.workers.busy) / sum(unicorn.workers.total) * 100',
    services: [{ newRelicName: 'rails-on-ecs-web', serviceName: 'web' }],
    // Four samples a minute: scale-out reacts within the minute after a burst.
    samplesPerMinute: 4,
    alarmTopic: stack.loggingAlarms,
    // In the platform's private subnets (Control Tower CT.LAMBDA.PR.3); NerdGraph through the NAT gateway.
    functionPlacement: { vpc: stack.vpc },
  });

  const webScaling = new ServiceStepScaling(stack, 'WebBusyWorkerScaling', {
    // Adds to the web service's scalable task count; its CPU baseline then only scales out.
    service: stack.web,
    metric: bridge.metricForService('web'),
    scaleOutSteps: [{ lower: 70, upper: 90, change: 2 }, { lower: 90, change: 4 }],
    scaleInSteps: [{ upper: 30, change: -1 }],
    scaleInCooldown: Duration.minutes(10),
    alarmTopic: stack.loggingAlarms,
  });

  const draining = [
    new InstanceDraining(stack, 'ApplicationDraining', {
      cluster: stack.applicationCluster,
      autoScalingGroup: stack.applicationAutoScalingGroup,
      mechanism: InstanceDrainingMechanism.MANAGED_DRAINING,
    }),
    new InstanceDraining(stack, 'ApplicationSpotDraining', {
      cluster: stack.applicationCluster,
      autoScalingGroup: stack.applicationSpotAutoScalingGroup,
    }),
  ];

  const watchdog = new WorkerWatchdog(stack, 'WorkerWatchdog', {
    services: [{
      service: stack.worker,
      container: stack.worker.container,
      name: 'sidekiq',
      maxMemory: Size.mebibytes(900),
      expectedWorkers: 2,
      // The worker inherits the agent's 10-minute ECS_CONTAINER_STOP_TIMEOUT of the platform.
      inheritedStopTimeout: Duration.minutes(10),
    }],
    signal: WorkerSignal.TSTP,
    gracePeriod: Duration.minutes(5),
    maxSignalledPercent: 50,
    autoScalingGroups: [stack.applicationAutoScalingGroup],
    functionPlacement: { vpc: stack.vpc },
  });

  return { bridge, webScaling, draining, watchdog };
}
