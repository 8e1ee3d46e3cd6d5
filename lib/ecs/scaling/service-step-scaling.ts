import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwactions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { invalidProp, requireIntegerInRange } from '../../private/validation';
import type { IAppService } from '../services/app-service';
import { notifyAlarmTopic } from './private/alarm-topic';
import { adjustmentsFor, Direction, requireCooldown, requireDeadBand, stepAlarm, validateSteps } from './private/step-policy';
import { ScalingStep } from './scaling-step';

/** Props of {@link ServiceStepScaling}. */
export interface ServiceStepScalingProps {
  /**
   * The service to scale. Its scalable task count carries the step policies, and its CPU baseline
   * stops scaling in (`disableCpuScaleIn()`), so that only this metric removes tasks.
   */
  readonly service: IAppService;
  /**
   * The metric to scale on, e.g. `NewRelicMetricBridge.metricForService()` (busy-worker ratio in percent).
   * Its period and statistic are used by both alarms.
   */
  readonly metric: cloudwatch.IMetric;
  /**
   * Scale-out steps, contiguous and ascending; the first step's `lower` is the scale-out threshold
   * and the last step has no `upper`.
   * @default - +1 task from 70, +3 tasks from 90
   */
  readonly scaleOutSteps?: ScalingStep[];
  /**
   * Scale-in steps, contiguous; the last step's `upper` is the scale-in threshold and the first
   * step has no `lower`.
   * @default - -1 task below 30
   */
  readonly scaleInSteps?: ScalingStep[];
  /**
   * Topic the missing-data alarm notifies (Control Tower CT.CLOUDWATCH.PR.1): while the metric is
   * missing the service is neither scaled in nor out.
   * @default - no action: add yours to `missingDataAlarm`
   */
  readonly alarmTopic?: sns.ITopic;
  /**
   * Time after a scale-out before another scale-out.
   * @default Duration.minutes(1)
   */
  readonly scaleOutCooldown?: Duration;
  /**
   * Time after a scale-in before another scale-in.
   * @default Duration.minutes(5)
   */
  readonly scaleInCooldown?: Duration;
  /**
   * Consecutive breaching periods before scaling out.
   * @default 2
   */
  readonly scaleOutEvaluationPeriods?: number;
  /**
   * Consecutive breaching periods before scaling in; longer than scale-out so a dip does not remove tasks.
   * @default 5
   */
  readonly scaleInEvaluationPeriods?: number;
}

const DEFAULT_SCALE_OUT: ScalingStep[] = [{ lower: 70, upper: 90, change: 1 }, { lower: 90, change: 3 }];
const DEFAULT_SCALE_IN: ScalingStep[] = [{ upper: 30, change: -1 }];

/**
 * Step scaling of an ECS service on one metric (the talk's busy-worker ratio from New Relic): a
 * scale-out alarm and a scale-in alarm, each with its own steps, cooldown and evaluation periods.
 *
 * Both alarms treat missing data as not breaching, so a metric that stops arriving never scales the
 * service in (nor out). `scaleOnMetric()` of aws-cdk-lib shares one cooldown and leaves missing
 * data at the CloudWatch default, which is why the alarms and actions are built here.
 */
export class ServiceStepScaling extends Construct {
  /** The alarm that scales out. */
  public readonly scaleOutAlarm: cloudwatch.Alarm;
  /** The alarm that scales in (missing data: not breaching). */
  public readonly scaleInAlarm: cloudwatch.Alarm;
  /** The scale-out policy. */
  public readonly scaleOutAction: appscaling.StepScalingAction;
  /** The scale-in policy. */
  public readonly scaleInAction: appscaling.StepScalingAction;
  /**
   * In alarm while the metric is missing (no data, stale data, an error at the source) for as long as
   * the scale-in alarm would need to act: scaling is then held, and this alarm makes it visible.
   */
  public readonly missingDataAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: ServiceStepScalingProps) {
    super(scope, id);
    requireIntegerInRange(this, 'scaleOutEvaluationPeriods', props.scaleOutEvaluationPeriods, 1, 60);
    requireIntegerInRange(this, 'scaleInEvaluationPeriods', props.scaleInEvaluationPeriods, 1, 60);
    requireCooldown(this, 'scaleOutCooldown', props.scaleOutCooldown);
    requireCooldown(this, 'scaleInCooldown', props.scaleInCooldown);
    const outSteps = validateSteps(this, 'scaleOutSteps', props.scaleOutSteps ?? DEFAULT_SCALE_OUT, 'out');
    const inSteps = validateSteps(this, 'scaleInSteps', props.scaleInSteps ?? DEFAULT_SCALE_IN, 'in');
    requireDeadBand(this, inSteps, outSteps, 'scaleInSteps', 'scaleOutSteps');
    const scalableTarget = ServiceStepScaling.scalableTargetOf(this, props.service);
    // A target-tracking policy that also scales in would undo this policy's scale-out decisions.
    props.service.disableCpuScaleIn();

    const path = props.service.service.node.path;
    [this.scaleOutAction, this.scaleOutAlarm] = this.addStepPolicy('ScaleOut', outSteps, 'out', scalableTarget, props.metric,
      props.scaleOutCooldown ?? Duration.minutes(1), props.scaleOutEvaluationPeriods ?? 2,
      (threshold) => `Scale out ${path} at or above ${threshold}`);
    [this.scaleInAction, this.scaleInAlarm] = this.addStepPolicy('ScaleIn', inSteps, 'in', scalableTarget, props.metric,
      props.scaleInCooldown ?? Duration.minutes(5), props.scaleInEvaluationPeriods ?? 5,
      (threshold) => `Scale in ${path} at or below ${threshold}; missing data never scales in`);
    // No real value is below this threshold: only missing data (treated as breaching) raises the alarm.
    this.missingDataAlarm = new cloudwatch.Alarm(this, 'MissingDataAlarm', {
      metric: props.metric,
      threshold: Number.MIN_SAFE_INTEGER,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: props.scaleInEvaluationPeriods ?? 5,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
      alarmDescription: `The scaling metric of ${path} is missing (no data, stale data or an error at the source): it is neither scaled in nor out until it returns`,
    });
    notifyAlarmTopic(this.missingDataAlarm, props.alarmTopic, 'a missing scaling metric', 'missingDataAlarm');
  }

  /** One direction: the step policy (`<id>`) and the alarm that triggers it (`<id>Alarm`). */
  private addStepPolicy(id: string, steps: readonly ScalingStep[], direction: Direction, scalingTarget: appscaling.ScalableTarget,
    metric: cloudwatch.IMetric, cooldown: Duration, evaluationPeriods: number, describe: (threshold: number) => string,
  ): [appscaling.StepScalingAction, cloudwatch.Alarm] {
    const { threshold, adjustments } = adjustmentsFor(steps, direction);
    const action = new appscaling.StepScalingAction(this, id, {
      scalingTarget,
      adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown,
      metricAggregationType: appscaling.MetricAggregationType.AVERAGE,
    });
    adjustments.forEach((a) => action.addAdjustment(a));
    const alarm = stepAlarm(this, `${id}Alarm`, { metric, threshold, direction, evaluationPeriods, description: describe(threshold) });
    alarm.addAlarmAction(new cwactions.ApplicationScalingAction(action));
    return [action, alarm];
  }

  private static scalableTargetOf(scope: Construct, service: IAppService): appscaling.ScalableTarget {
    // ScalableTaskCount keeps its target as the child 'Target' and does not expose it.
    const taskCount = service.scalableTaskCount;
    const target = taskCount.node.tryFindChild('Target');
    if (!(target instanceof appscaling.ScalableTarget)) {
      invalidProp(scope, 'service.scalableTaskCount', taskCount.node.path, 'has no scalable target child', 'Pass the value returned by service.autoScaleTaskCount().');
    }
    return target;
  }
}
