import { Duration, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, IConstruct } from 'constructs';
import { invalidProp } from '../../../private/validation';
import { ScalingStep } from '../scaling-step';

export type Direction = 'out' | 'in';

const fmt = (n: number | undefined, inf: string): string => (n === undefined ? inf : String(n));
const range = (s: ScalingStep): string => `${fmt(s.lower, '-∞')}..${fmt(s.upper, '∞')}`;
const describeSteps = (steps: readonly ScalingStep[]): string => steps.map((s) => `${range(s)}: ${s.change > 0 ? '+' : ''}${s.change}`).join(', ');

/** Application Auto Scaling and EC2 Auto Scaling both allow at most 20 step adjustments per policy. */
const MAX_STEPS = 20;

/**
 * Checks one direction's steps and returns them sorted: contiguous ranges (no overlap, no gap that
 * would swallow values), a threshold on the inner edge and an open outer edge, changes of the right sign.
 */
export function validateSteps(scope: IConstruct, prop: string, steps: readonly ScalingStep[], direction: Direction): ScalingStep[] {
  if (steps.length === 0 || steps.length > MAX_STEPS) {
    invalidProp(scope, prop, `${steps.length} steps`, `must have from 1 to ${MAX_STEPS} steps`, 'Give at least one step.');
  }
  if (steps.some((s) => [s.lower, s.upper, s.change].some((v) => v !== undefined && Token.isUnresolved(v)))) return [...steps];
  const sorted = [...steps].sort((a, b) => (a.lower ?? -Infinity) - (b.lower ?? -Infinity));
  for (const s of sorted) {
    if (!Number.isInteger(s.change) || s.change === 0 || (direction === 'out' ? s.change < 0 : s.change > 0)) {
      invalidProp(scope, prop, describeSteps(sorted), `has a step (${range(s)}) whose change ${s.change} is not a ${direction === 'out' ? 'positive' : 'negative'} whole number`,
        direction === 'out' ? 'Scale-out steps add tasks: use a change of +1 or more.' : 'Scale-in steps remove tasks: use a change of -1 or less.');
    }
    if (s.lower !== undefined && s.upper !== undefined && s.lower >= s.upper) {
      invalidProp(scope, prop, describeSteps(sorted), `has a step whose lower bound ${s.lower} is not below its upper bound ${s.upper}`, 'Make each step a non-empty range.');
    }
  }
  for (let i = 1; i < sorted.length; i++) {
    const prev = sorted[i - 1];
    const next = sorted[i];
    if (prev.upper === undefined || next.lower === undefined || prev.upper > next.lower) {
      invalidProp(scope, prop, describeSteps(sorted), `has overlapping steps (${range(prev)} and ${range(next)})`, "Make each step's lower bound equal the previous step's upper bound.");
    }
    if (prev.upper < next.lower) {
      invalidProp(scope, prop, describeSteps(sorted), `leaves a gap between ${prev.upper} and ${next.lower}, where no step would act`, "Make each step's lower bound equal the previous step's upper bound.");
    }
  }
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  if (direction === 'out') {
    if (first.lower === undefined) invalidProp(scope, prop, describeSteps(sorted), 'needs a lower bound on its first step (the scale-out threshold)', 'Set `lower` on the lowest scale-out step.');
    if (last.upper !== undefined) invalidProp(scope, prop, describeSteps(sorted), `ends at ${last.upper}: values above it would not scale out`, 'Leave `upper` unset on the highest scale-out step.');
  } else {
    if (last.upper === undefined) invalidProp(scope, prop, describeSteps(sorted), 'needs an upper bound on its last step (the scale-in threshold)', 'Set `upper` on the highest scale-in step.');
    if (first.lower !== undefined) invalidProp(scope, prop, describeSteps(sorted), `starts at ${first.lower}: values below it would not scale in`, 'Leave `lower` unset on the lowest scale-in step.');
  }
  return sorted;
}

/** Scale-in must stay strictly below scale-out, or one value would trigger both. */
export function requireDeadBand(scope: IConstruct, scaleIn: readonly ScalingStep[], scaleOut: readonly ScalingStep[], inProp: string, outProp: string): void {
  const inThreshold = scaleIn[scaleIn.length - 1]?.upper;
  const outThreshold = scaleOut[0]?.lower;
  if (inThreshold === undefined || outThreshold === undefined || Token.isUnresolved(inThreshold) || Token.isUnresolved(outThreshold)) return;
  if (inThreshold >= outThreshold) {
    invalidProp(scope, inProp, `upper bound ${inThreshold}`, `must be below the first ${outProp} lower bound (${outThreshold})`, 'Leave a band between the scale-in and scale-out thresholds where capacity does not change.');
  }
}

export interface StepAdjustment {
  readonly adjustment: number;
  readonly lowerBound?: number;
  readonly upperBound?: number;
}

/** Step bounds as offsets from the alarm threshold (what the scaling APIs take). */
export function adjustmentsFor(steps: readonly ScalingStep[], direction: Direction): { threshold: number; adjustments: StepAdjustment[] } {
  const threshold = direction === 'out' ? steps[0].lower! : steps[steps.length - 1].upper!;
  return {
    threshold,
    adjustments: steps.map((s) => ({
      adjustment: s.change,
      lowerBound: s.lower === undefined ? undefined : s.lower - threshold,
      upperBound: s.upper === undefined ? undefined : s.upper - threshold,
    })),
  };
}

export interface StepAlarmOptions {
  readonly metric: cloudwatch.IMetric;
  readonly threshold: number;
  readonly direction: Direction;
  readonly evaluationPeriods: number;
  readonly description: string;
}

/**
 * The alarm behind one direction. Missing data is NOT_BREACHING both ways: a silent metric (the
 * bridge failing, New Relic down) neither scales out nor, above all, scales in.
 */
export function stepAlarm(scope: Construct, id: string, options: StepAlarmOptions): cloudwatch.Alarm {
  return new cloudwatch.Alarm(scope, id, {
    metric: options.metric,
    threshold: options.threshold,
    comparisonOperator: options.direction === 'out'
      ? cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
      : cloudwatch.ComparisonOperator.LESS_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: options.evaluationPeriods,
    datapointsToAlarm: options.evaluationPeriods,
    treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    alarmDescription: options.description,
  });
}

export function requireCooldown(scope: IConstruct, prop: string, value: Duration | undefined): void {
  if (value === undefined || Token.isUnresolved(value.toSeconds())) return;
  const seconds = value.toSeconds();
  if (seconds < 0 || seconds > 3600) invalidProp(scope, prop, `${seconds} seconds`, 'must be from 0 seconds to 1 hour', 'Use a cooldown long enough for new tasks to start and report.');
}
