/**
 * A model of what KEDA 2.20.2 and the Kubernetes HPA do with one aws-cloudwatch trigger, written
 * from their source so tests can run a synthesized ScaledObject through the missing-data cases:
 * - kedacore/keda v2.20.2 pkg/scalers/aws_cloudwatch_scaler.go: computeQueryWindow (end = now -
 *   metricEndTimeOffset truncated to the period, start = end - metricCollectionTime), newest
 *   datapoint first (ScanByTimestampDescending), `ignoreNullValues=false` + an empty first series
 *   -> error, no series at all -> `minMetricValue`;
 * - pkg/fallback/fallback.go: no fallback -> the error reaches the HPA; with one, failures are
 *   counted and only `> failureThreshold` turns into a fallback value of `target * replicas`,
 *   divided by the ready pods for metricType Value (0 ready pods -> error), replicas per `behavior`;
 * - kubernetes pkg/controller/podautoscaler: a metric that cannot be read leaves the scale as it
 *   is; Value targets give `ceil(value / target * readyPods)` outside a 10% tolerance, clamped to
 *   min/max.
 * Scale-down stabilization is left out: it only delays scale-in, so the model is conservative.
 */
import { AlarmResource, alarmsInAlarm, HISTORY_MINUTES, ScalingPathModel } from '../support/missing-data';

export interface Datapoint {
  /** Seconds since the epoch (the datapoint's CloudWatch timestamp). */
  readonly t: number;
  readonly value: number;
}

/** What GetMetricData answers: an error, or the series (normally exactly one) with all stored datapoints. */
export interface CloudWatchAnswer {
  readonly error?: string;
  readonly series?: Datapoint[][];
}

export interface ModelState {
  /** Current replicas of the Deployment. */
  readonly current: number;
  /** Ready pods among them. */
  readonly ready: number;
  /** Consecutive failures KEDA has counted so far. */
  readonly failures: number;
}

export interface ModelStep {
  readonly desired: number;
  readonly failures: number;
  /** Why, in words, for test messages. */
  readonly reason: string;
}

type Obj = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** One KEDA poll followed by one HPA evaluation. */
export function step(scaledObject: Obj, answer: CloudWatchAnswer, nowSeconds: number, state: ModelState): ModelStep {
  const spec = scaledObject.spec;
  const trigger = spec.triggers[0];
  const meta = trigger.metadata;
  const target = Number(meta.targetMetricValue);
  const read = scalerRead(meta, answer, nowSeconds);

  let metric: number | undefined;
  let failures = state.failures;
  let reason: string;
  if (read.error === undefined) {
    metric = read.value;
    failures = 0;
    reason = `reading ${read.value}`;
  } else if (spec.fallback === undefined) {
    reason = `error without fallback: ${read.error}`;
  } else {
    failures += 1;
    if (failures > spec.fallback.failureThreshold) {
      const fallbackReplicas = spec.fallback.replicas;
      const behavior = spec.fallback.behavior ?? 'static';
      let replicas = {
        static: fallbackReplicas,
        currentReplicas: state.current,
        currentReplicasIfHigher: Math.max(state.current, fallbackReplicas),
        currentReplicasIfLower: Math.min(state.current, fallbackReplicas),
      }[behavior as string] as number;
      if ((trigger.metricType ?? 'AverageValue') === 'Value') {
        if (state.ready === 0) {
          replicas = NaN;
        } else {
          replicas /= state.ready;
        }
      }
      metric = Number.isNaN(replicas) ? undefined : target * replicas;
      reason = metric === undefined ? 'fallback impossible with no ready pod' : `fallback ${behavior}`;
    } else {
      reason = `error ${failures}/${spec.fallback.failureThreshold} before fallback: ${read.error}`;
    }
  }
  return { desired: hpaDesired(spec, trigger.metricType ?? 'AverageValue', target, metric, state), failures, reason };
}

function scalerRead(meta: Obj, answer: CloudWatchAnswer, now: number): { value?: number; error?: string } {
  if (answer.error !== undefined) return { error: answer.error };
  const period = Number(meta.metricStatPeriod ?? 300);
  const end = Math.floor((now - Number(meta.metricEndTimeOffset ?? 0)) / period) * period;
  const start = end - Number(meta.metricCollectionTime ?? 300);
  const results = (answer.series ?? []).map((points) => points.filter((p) => p.t >= start && p.t < end).sort((a, b) => b.t - a.t));
  const ignoreNull = (meta.ignoreNullValues ?? 'true') !== 'false';
  if (results.length > 0 && results[0].length === 0 && !ignoreNull) return { error: 'empty metric data received, ignoreNullValues is false' };
  if (results.length > 0 && results[0].length > 0) return { value: results[0][0].value };
  return { value: Number(meta.minMetricValue ?? 0) };
}

function hpaDesired(spec: Obj, metricType: string, target: number, metric: number | undefined, state: ModelState): number {
  if (metric === undefined) return state.current;
  let desired: number;
  if (metricType === 'Value') {
    const ratio = metric / target;
    desired = Math.abs(1 - ratio) <= 0.1 ? state.current : Math.ceil(ratio * state.ready);
  } else {
    desired = Math.ceil(metric / target);
  }
  return Math.min(spec.maxReplicaCount, Math.max(spec.minReplicaCount, desired));
}

/**
 * The EKS path as a {@link ScalingPathModel} of the shared missing-data helper: KEDA polls each
 * minute, the HPA applies the result, the replica count carries over. The bridge stamps each sample
 * with the start of the minute it queried, about two minutes before it is readable: at minute m the
 * samples of minutes before m exist and it is 30 s into wall-clock minute m + 1.
 */
export function kedaPath(options: {
  name: string; scaledObject: Obj; alarms: readonly AlarmResource[]; neutralValue: number; scaleInValue: number; replicas: number;
}): ScalingPathModel {
  const trigger = options.scaledObject.spec.triggers[0];
  const base = 1_800_000_000 - (1_800_000_000 % 60);
  return {
    name: options.name,
    metricName: trigger.metadata.metricName,
    neutralValue: options.neutralValue,
    scaleInValue: options.scaleInValue,
    evaluate(samples, minutes) {
      let state: ModelState = { current: options.replicas, ready: options.replicas, failures: 0 };
      let scaleInMinute: number | undefined;
      const reasons = new Set<string>();
      // KEDA starts once the neutral history fills its window (a first poll on an empty metric is not a case).
      for (let m = -HISTORY_MINUTES + 10; m <= minutes; m++) {
        const readable = samples.filter((s) => s.minute < m).map((s) => ({ t: base + s.minute * 60, value: s.value }));
        const r = step(options.scaledObject, { series: [readable] }, base + (m + 1) * 60 + 30, state);
        if (m >= 0) reasons.add(r.reason.replace(/ \d+\/\d+ /, ' n/threshold ').replace(/reading [\d.]+/, 'reading'));
        if (m >= 0 && r.desired < state.current && scaleInMinute === undefined) scaleInMinute = m;
        state = { current: r.desired, ready: r.desired, failures: r.failures };
      }
      return {
        scaleInMinute,
        alarms: alarmsInAlarm(options.alarms, samples, minutes),
        detail: `KEDA: ${[...reasons].join('; ')}; replicas ${options.replicas} -> ${state.current}`,
      };
    },
  };
}
