/* eslint-disable @typescript-eslint/no-explicit-any -- reads CloudFormation JSON from a synthesized template */
// Issue 19's rule, as one helper every scaling path must pass: no data, stale data or an error at the
// source never scales anything in, and it shows as an alarm. Generic on purpose: it takes a
// synthesized template plus the metric the path scales on, and/or the path's data source logic.
import { Template } from 'aws-cdk-lib/assertions';

/** The metric a scaling path scales on, as it appears in the template's alarms. */
export interface ScalingMetric {
  readonly metricName: string;
  /** Dimensions the alarms must carry (e.g. `{ ServiceName: 'worker' }`); all alarms on the name when unset. */
  readonly dimensions?: Record<string, unknown>;
}

interface AlarmResource {
  readonly id: string;
  readonly props: Record<string, any>;
}

function alarmsOn(template: Template, metric: ScalingMetric): AlarmResource[] {
  const alarms = Object.entries(template.findResources('AWS::CloudWatch::Alarm')).map(([id, r]) => ({ id, props: r.Properties as Record<string, any> }));
  const dims = (list: Array<{ Name: string; Value: unknown }> | undefined) => Object.fromEntries((list ?? []).map((d) => [d.Name, d.Value]));
  const matches = (name: unknown, dimensions: Array<{ Name: string; Value: unknown }> | undefined) => name === metric.metricName
    && Object.entries(metric.dimensions ?? {}).every(([k, v]) => JSON.stringify(dims(dimensions)[k]) === JSON.stringify(v));
  return alarms.filter((a) => matches(a.props.MetricName, a.props.Dimensions)
    || (a.props.Metrics ?? []).some((m: any) => m.MetricStat && matches(m.MetricStat.Metric.MetricName, m.MetricStat.Metric.Dimensions)));
}

/** Scaling policies (ECS/Application Auto Scaling or EC2 Auto Scaling) whose steps remove capacity. */
function scaleInPolicyIds(template: Template): Set<string> {
  const ids = new Set<string>();
  for (const type of ['AWS::ApplicationAutoScaling::ScalingPolicy', 'AWS::AutoScaling::ScalingPolicy']) {
    for (const [id, r] of Object.entries(template.findResources(type))) {
      const p = r.Properties as Record<string, any>;
      const steps = p.StepScalingPolicyConfiguration?.StepAdjustments ?? p.StepAdjustments ?? [];
      if (steps.some((s: any) => s.ScalingAdjustment < 0)) ids.add(id);
      // Target tracking scales in unless disarmed.
      if (p.TargetTrackingScalingPolicyConfiguration && p.TargetTrackingScalingPolicyConfiguration.DisableScaleIn !== true) ids.add(id);
    }
  }
  return ids;
}

const actionTargets = (alarm: AlarmResource): string[] => (alarm.props.AlarmActions ?? []).map((a: any) => a?.Ref).filter((r: unknown): r is string => typeof r === 'string');

/** What the helper found, so the caller can print it in a closing note. */
export interface MissingDataVerdict {
  readonly scaleInAlarms: string[];
  readonly visibleAlarms: string[];
}

/**
 * Template side: every alarm on `metric` that triggers a scale-in treats missing data as not
 * breaching (no data and stale data leave it OK: CloudWatch does not repeat the action), needs every
 * evaluated period to breach (a single stale point cannot scale in), and looks at least 2 periods;
 * and another alarm on the same metric treats missing data as breaching without scaling anything, so
 * the gap is visible. Throws with the reason otherwise.
 */
export function expectMissingDataNeverScalesIn(template: Template, metric: ScalingMetric): MissingDataVerdict {
  const alarms = alarmsOn(template, metric);
  const scaleIn = scaleInPolicyIds(template);
  const scaleInAlarms = alarms.filter((a) => actionTargets(a).some((t) => scaleIn.has(t)));
  if (scaleInAlarms.length === 0) throw new Error(`no alarm on ${metric.metricName} triggers a scale-in: the path under test was not found`);
  const problems: string[] = [];
  for (const a of scaleInAlarms) {
    if (a.props.TreatMissingData !== 'notBreaching') problems.push(`${a.id}: TreatMissingData is ${a.props.TreatMissingData ?? 'missing (the default)'}, so missing data can keep or put it in ALARM and scale in`);
    const periods = a.props.EvaluationPeriods;
    if (a.props.DatapointsToAlarm !== undefined && a.props.DatapointsToAlarm !== periods) problems.push(`${a.id}: ${a.props.DatapointsToAlarm} of ${periods} periods scale in; gaps of stale data could be skipped over`);
    if (!(periods >= 2)) problems.push(`${a.id}: a single period (${periods}) can scale in on one stale point`);
  }
  const visible = alarms.filter((a) => a.props.TreatMissingData === 'breaching' && !actionTargets(a).some((t) => scaleIn.has(t)));
  if (visible.length === 0) problems.push(`no alarm on ${metric.metricName} goes to ALARM on missing data: a source failure would be silent`);
  if (problems.length > 0) throw new Error(`missing data could scale ${metric.metricName} in, or go unnoticed:\n${problems.join('\n')}`);
  return { scaleInAlarms: scaleInAlarms.map((a) => a.id), visibleAlarms: visible.map((a) => a.id) };
}

/** The three ways data goes missing at the source. */
export type MissingDataCase = 'no data' | 'stale data' | 'error from the source';
export const MISSING_DATA_CASES: readonly MissingDataCase[] = ['no data', 'stale data', 'error from the source'];

/** What the path's data source did in one case. */
export interface SourceOutcome {
  /** Values it published for the scaled metric. */
  readonly published: number[];
  /** True when it reported a failure (the invocation fails, an error alarm fires). */
  readonly failed: boolean;
}

/**
 * Source side: for each case the source publishes nothing for the metric (a value, e.g. 0, could
 * scale in), and an error from the source is reported as a failure (visible). Returns the outcomes.
 */
export async function expectSourceLeavesMetricMissing(run: (c: MissingDataCase) => Promise<SourceOutcome>): Promise<Record<MissingDataCase, SourceOutcome>> {
  const results = {} as Record<MissingDataCase, SourceOutcome>;
  const problems: string[] = [];
  for (const c of MISSING_DATA_CASES) {
    const outcome = await run(c);
    results[c] = outcome;
    if (outcome.published.length > 0) problems.push(`${c}: published ${outcome.published.join(', ')} instead of leaving the metric missing`);
    if (c === 'error from the source' && !outcome.failed) problems.push(`${c}: ended as a success, so no alarm shows it`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return results;
}
