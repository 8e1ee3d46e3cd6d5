import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { invalidProp, requireDurationInRange } from '../../private/validation';
import { IAppService } from '../services/app-service';
import { NewRelicMetricBridge } from './newrelic-metric-bridge';
import { ScalingStep } from './scaling-step';
import { ServiceStepScaling } from './service-step-scaling';

/** Props of {@link QueueLatencyScaling}. */
export interface QueueLatencyScalingProps {
  /** The worker service to scale (e.g. a `WorkerService`). */
  readonly service: IAppService;
  /** The bridge that publishes the queue latency (in `additionalMetrics`, or as its main metric). */
  readonly bridge: NewRelicMetricBridge;
  /** The bridge's `serviceName` of this worker. */
  readonly serviceName: string;
  /**
   * The bridge metric that carries the job queue latency in seconds (e.g. Sidekiq's
   * `max(newrelic.sidekiq.queue.latency)`).
   * @default 'QueueLatency'
   */
  readonly latencyMetricName?: string;
  /**
   * Latency at or above which one worker task is added (three more at four times it).
   * @default Duration.seconds(30)
   */
  readonly scaleOutLatency?: Duration;
  /**
   * Latency below which one worker task is removed, after `scaleInEvaluationPeriods` minutes.
   * @default Duration.seconds(5)
   */
  readonly scaleInLatency?: Duration;
  /**
   * Consecutive low-latency minutes before a task is removed.
   * @default 10
   */
  readonly scaleInEvaluationPeriods?: number;
}

/**
 * Queue-driven workers (the talk's job workers): step scaling of a worker service on its job queue
 * latency from New Relic, published by the same {@link NewRelicMetricBridge} (one NerdGraph request
 * per poll for every metric). Built on {@link ServiceStepScaling}, so the CPU policy's scale-in is
 * disarmed and missing latency data never removes a worker (it raises `missingDataAlarm`).
 */
export class QueueLatencyScaling extends Construct {
  /** The step scaling on the latency metric. */
  public readonly scaling: ServiceStepScaling;
  /** The latency metric scaled on (maximum over one minute). */
  public readonly metric: cloudwatch.IMetric;

  constructor(scope: Construct, id: string, props: QueueLatencyScalingProps) {
    super(scope, id);
    const out = (props.scaleOutLatency ?? Duration.seconds(30)).toSeconds();
    const inBelow = (props.scaleInLatency ?? Duration.seconds(5)).toSeconds();
    requireDurationInRange(this, 'scaleOutLatency', props.scaleOutLatency, Duration.seconds(1), Duration.hours(24));
    requireDurationInRange(this, 'scaleInLatency', props.scaleInLatency, Duration.seconds(0), Duration.hours(24));
    if (!Token.isUnresolved(out) && !Token.isUnresolved(inBelow) && inBelow >= out) {
      invalidProp(this, 'scaleInLatency', `${inBelow} seconds`, `must be below scaleOutLatency (${out} seconds)`, 'Leave a band of latency where the worker count does not change.');
    }
    // The worst queue of the minute drives scale-out; a brief quiet second must not look idle.
    this.metric = props.bridge.metric(props.latencyMetricName ?? 'QueueLatency', props.serviceName, { statistic: cloudwatch.Stats.MAXIMUM });
    const scaleOutSteps: ScalingStep[] = [{ lower: out, upper: out * 4, change: 1 }, { lower: out * 4, change: 3 }];
    const scaleInSteps: ScalingStep[] = [{ upper: inBelow, change: -1 }];
    this.scaling = new ServiceStepScaling(this, 'Scaling', {
      service: props.service,
      metric: this.metric,
      scaleOutSteps,
      scaleInSteps,
      scaleInEvaluationPeriods: props.scaleInEvaluationPeriods ?? 10,
    });
  }
}
