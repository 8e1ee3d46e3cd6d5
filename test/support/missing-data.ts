/* eslint-disable @typescript-eslint/no-explicit-any -- reads CloudFormation JSON from a synthesized template */
// Issue 19's rule, as one helper every scaling path must pass: no data, stale data or an error at the
// source never scales anything in, and it shows as an alarm. Two parts: a structural check of a
// template's CloudWatch alarms (expectMissingDataNeverScalesIn), and the rule end to end
// (expectMissingDataRule) that takes the shared data source and a model of each path's consumer.
import { Template } from 'aws-cdk-lib/assertions';

/** The metric a scaling path scales on, as it appears in the template's alarms. */
export interface ScalingMetric {
  readonly metricName: string;
  /** Dimensions the alarms must carry (e.g. `{ ServiceName: 'worker' }`); all alarms on the name when unset. */
  readonly dimensions?: Record<string, unknown>;
}

export interface AlarmResource {
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

// ---------------------------------------------------------------------------------------------------
// The rule end to end, one function for every scaling path: the data source answers each case, what it
// publishes lands in CloudWatch after a stretch of neutral data, and the path's own consumer (CloudWatch
// alarms and scaling policies for ECS, KEDA + HPA for EKS) runs minute by minute over it.

/** One sample of the scaled metric in CloudWatch; `minute` is metric time (minute 0: the first minute the source answers the case). */
export interface Sample {
  readonly minute: number;
  readonly value: number;
}

/** The control: the source answers a fresh value that scales in. The path must scale in, or the model cannot see a scale-in. */
export const CONTROL_CASE = 'fresh data that scales in';

/**
 * The data source shared by the paths (the New Relic bridge): one poll while New Relic answers
 * `answer` for the case, with `value` being the value New Relic holds for the path's metric (stale,
 * or beside the error, for the missing-data cases). Returns what it published for `metricName`.
 */
export type DataSource = (c: MissingDataCase | typeof CONTROL_CASE, metricName: string, value: number) => Promise<SourceOutcome>;

/** What a path's consumer did over the minutes it ran. */
export interface PathDecision {
  /** The first minute it removed capacity (tasks, pods), if it did. */
  readonly scaleInMinute?: number;
  /** Alarms in ALARM at the end, with the minute each first went there. */
  readonly alarms: Array<{ readonly id: string; readonly since: number }>;
  /** In words, for the report. */
  readonly detail: string;
}

/** A scaling path, as a model of its consumer built from the synthesized template or manifest. */
export interface ScalingPathModel {
  /** E.g. "ECS step scaling (BusyWorkerRatio)". */
  readonly name: string;
  /** The metric the path scales on (the name the source publishes). */
  readonly metricName: string;
  /** A value that changes nothing (inside the dead band or at the target): the data before each case. */
  readonly neutralValue: number;
  /** A value that scales in when fresh. */
  readonly scaleInValue: number;
  /** Runs the consumer over minutes `-history` to `minutes` (samples before 0 are the neutral history). */
  evaluate(samples: readonly Sample[], minutes: number): PathDecision;
}

/** One row of the closing note's table. */
export interface MissingDataRow {
  readonly path: string;
  readonly case: string;
  readonly published: string;
  readonly sourceFailed: boolean;
  readonly outcome: string;
  readonly visible: string;
}

/** Minutes of neutral data before each case, and how long each case runs. */
export const HISTORY_MINUTES = 30;
export const CASE_MINUTES = 30;

/**
 * Issue 19's rule, the same for every path: for no data, stale data and an error from the source, the
 * source publishes nothing for the metric (an error fails the poll), the path removes nothing for
 * CASE_MINUTES, and an alarm of the path goes to ALARM. The control case must scale in. Throws with
 * every broken expectation; returns the table rows.
 */
export async function expectMissingDataRule(path: ScalingPathModel, source: DataSource): Promise<MissingDataRow[]> {
  const rows: MissingDataRow[] = [];
  const problems: string[] = [];
  for (const c of [CONTROL_CASE, ...MISSING_DATA_CASES] as const) {
    const outcome = await source(c, path.metricName, path.scaleInValue);
    const samples: Sample[] = [];
    for (let m = -HISTORY_MINUTES; m < CASE_MINUTES; m++) {
      if (m < 0) samples.push({ minute: m, value: path.neutralValue });
      else outcome.published.forEach((value) => samples.push({ minute: m, value }));
    }
    const decision = path.evaluate(samples, CASE_MINUTES);
    const scaledIn = decision.scaleInMinute !== undefined;
    rows.push({
      path: path.name,
      case: c,
      published: outcome.published.length === 0 ? 'nothing' : outcome.published.join(', '),
      sourceFailed: outcome.failed,
      outcome: scaledIn ? `scaled in at minute ${decision.scaleInMinute}` : `no scale-in in ${CASE_MINUTES} min (${decision.detail})`,
      visible: decision.alarms.map((a) => `${a.id} from minute ${a.since}`).join('; ') || 'none',
    });
    if (c === CONTROL_CASE) {
      if (!scaledIn) problems.push(`${path.name}, control: a fresh ${path.scaleInValue} did not scale in (${decision.detail}); the model cannot tell a scale-in, so the other cases prove nothing`);
      continue;
    }
    if (outcome.published.length > 0) problems.push(`${path.name}, ${c}: the source published ${outcome.published.join(', ')} instead of leaving the metric missing`);
    if (c === 'error from the source' && !outcome.failed) problems.push(`${path.name}, ${c}: the poll ended as a success, so the source's error alarm does not see it`);
    if (scaledIn) problems.push(`${path.name}, ${c}: scaled in at minute ${decision.scaleInMinute} (${decision.detail})`);
    if (decision.alarms.length === 0) problems.push(`${path.name}, ${c}: no alarm went to ALARM in ${CASE_MINUTES} minutes: the gap is silent`);
  }
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return rows;
}

/** The rows as a Markdown table (for the closing note; printed when MISSING_DATA_REPORT=1). */
export function missingDataTable(rows: readonly MissingDataRow[]): string {
  const head = '| path | case | source published | poll failed | outcome | visible alarm |\n|---|---|---|---|---|---|';
  return [head, ...rows.map((r) => `| ${r.path} | ${r.case} | ${r.published} | ${r.sourceFailed ? 'yes' : 'no'} | ${r.outcome} | ${r.visible} |`)].join('\n');
}

// ---------------------------------------------------------------------------------------------------
// CloudWatch alarms, as the ECS paths use them. A model of alarm evaluation on one-minute periods:
// each minute the alarm looks at its last EvaluationPeriods complete periods; a period without a
// sample counts as TreatMissingData says (breaching / notBreaching; missing and ignore are judged on
// the periods that have data, and keep the state when none has). It errs toward ALARM: with
// `missing`, CloudWatch may look further back, which can only add non-breaching periods.

type AlarmState = 'OK' | 'ALARM' | 'INSUFFICIENT_DATA';

function aggregate(values: number[], statistic: string): number | undefined {
  if (values.length === 0) return undefined;
  switch (statistic) {
    case 'SampleCount': return values.length;
    case 'Sum': return values.reduce((a, b) => a + b, 0);
    case 'Minimum': return Math.min(...values);
    case 'Maximum': return Math.max(...values);
    case 'Average': return values.reduce((a, b) => a + b, 0) / values.length;
    default: throw new Error(`the alarm model does not know the statistic ${statistic}`);
  }
}

function breaches(value: number, operator: string, threshold: number): boolean {
  switch (operator) {
    case 'GreaterThanOrEqualToThreshold': return value >= threshold;
    case 'GreaterThanThreshold': return value > threshold;
    case 'LessThanThreshold': return value < threshold;
    case 'LessThanOrEqualToThreshold': return value <= threshold;
    default: throw new Error(`the alarm model does not know the comparison ${operator}`);
  }
}

/** The state of one alarm (its CloudFormation properties) at `minute`, given the previous state. */
export function alarmStateAt(props: Record<string, any>, samples: readonly Sample[], minute: number, previous: AlarmState): AlarmState {
  const stat = props.MetricName !== undefined ? { statistic: props.Statistic, period: props.Period } : (() => {
    const m = (props.Metrics ?? []).find((x: any) => x.MetricStat && x.ReturnData !== false);
    if (!m) throw new Error('the alarm model handles alarms on one metric, not metric math');
    return { statistic: m.MetricStat.Stat, period: m.MetricStat.Period };
  })();
  if (stat.period !== 60) throw new Error(`the alarm model handles one-minute periods, not ${stat.period} seconds`);
  const n: number = props.EvaluationPeriods;
  const m: number = props.DatapointsToAlarm ?? n;
  const treat: string = props.TreatMissingData ?? 'missing';
  let breaching = 0;
  let present = 0;
  for (let p = minute - n; p < minute; p++) {
    const value = aggregate(samples.filter((s) => s.minute === p).map((s) => s.value), stat.statistic);
    if (value === undefined) {
      if (treat === 'breaching') { breaching++; present++; } else if (treat === 'notBreaching') present++;
      continue;
    }
    present++;
    if (breaches(value, props.ComparisonOperator, props.Threshold)) breaching++;
  }
  if (present === 0) return treat === 'ignore' ? previous : 'INSUFFICIENT_DATA';
  return breaching >= Math.min(m, present) ? 'ALARM' : 'OK';
}

/** The states of one alarm at minutes 0..minutes, after it has run over the history. */
function alarmStates(alarm: AlarmResource, samples: readonly Sample[], minutes: number): AlarmState[] {
  const states: AlarmState[] = [];
  let state: AlarmState = 'INSUFFICIENT_DATA';
  for (let minute = -HISTORY_MINUTES; minute <= minutes; minute++) {
    state = alarmStateAt(alarm.props, samples, minute, state);
    if (minute >= 0) states.push(state);
  }
  return states;
}

/** Alarms in ALARM at the end of the run, with the minute since which they have been. */
export function alarmsInAlarm(alarms: readonly AlarmResource[], samples: readonly Sample[], minutes: number): Array<{ id: string; since: number }> {
  return alarms.flatMap((alarm) => {
    const states = alarmStates(alarm, samples, minutes);
    if (states[states.length - 1] !== 'ALARM') return [];
    let since = states.length - 1;
    while (since > 0 && states[since - 1] === 'ALARM') since--;
    return [{ id: alarm.id, since }];
  });
}

/** The alarms of a template on one metric (its logical id and CloudFormation properties). */
export function alarmsOnMetric(template: Template, metric: ScalingMetric): AlarmResource[] {
  return alarmsOn(template, metric);
}

/**
 * The ECS paths: every alarm of the template on `metric`. One that targets a scale-in policy and is in
 * ALARM at a minute >= 0 removes capacity (Application Auto Scaling repeats a step policy while its
 * alarm stays in ALARM); the others are what makes the gap visible.
 */
export function cloudWatchAlarmPath(options: { name: string; template: Template; metric: ScalingMetric; neutralValue: number; scaleInValue: number }): ScalingPathModel {
  const alarms = alarmsOn(options.template, options.metric);
  const scaleInPolicies = scaleInPolicyIds(options.template);
  const scaleIn = alarms.filter((a) => actionTargets(a).some((t) => scaleInPolicies.has(t)));
  const others = alarms.filter((a) => !scaleIn.includes(a));
  if (scaleIn.length === 0) throw new Error(`${options.name}: no alarm on ${options.metric.metricName} triggers a scale-in: the path under test was not found`);
  return {
    name: options.name,
    metricName: options.metric.metricName,
    neutralValue: options.neutralValue,
    scaleInValue: options.scaleInValue,
    evaluate(samples, minutes) {
      const firsts = scaleIn.map((a) => alarmStates(a, samples, minutes).indexOf('ALARM')).filter((m) => m >= 0);
      return {
        scaleInMinute: firsts.length > 0 ? Math.min(...firsts) : undefined,
        alarms: alarmsInAlarm(others, samples, minutes),
        detail: `${scaleIn.map((a) => a.id).join(', ')} never in ALARM`,
      };
    },
  };
}
