import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { ServiceStepScaling, ServiceStepScalingProps } from '../../../lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { scalingFixture } from './fixture';
import { acknowledgedControls } from '../support/fixtures';

const metric = new cloudwatch.Metric({ namespace: 'NewRelic', metricName: 'BusyWorkerRatio', dimensionsMap: { ServiceName: 'worker' }, period: Duration.minutes(1) });

function scale(props: Partial<ServiceStepScalingProps> = {}) {
  const f = scalingFixture();
  const scaling = new ServiceStepScaling(f.stack, 'Scaling', { service: f.appService(), metric, ...props });
  return { ...f, scaling, template: Template.fromStack(f.stack) };
}

describe('defaults', () => {
  const { template } = scale();

  test('scales out at 70 % busy: +1 task up to 90, +3 above, one-minute cooldown', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling',
      StepScalingPolicyConfiguration: {
        AdjustmentType: 'ChangeInCapacity',
        Cooldown: 60,
        StepAdjustments: [
          { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 20, ScalingAdjustment: 1 },
          { MetricIntervalLowerBound: 20, ScalingAdjustment: 3 },
        ],
      },
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { ComparisonOperator: 'GreaterThanOrEqualToThreshold', Threshold: 70, EvaluationPeriods: 2 });
  });

  test('scales in below 30 % busy by one task, five-minute cooldown', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      StepScalingPolicyConfiguration: { Cooldown: 300, StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -1 }] },
    });
  });

  test('missing data never scales in: the scale-in alarm treats it as not breaching', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      ComparisonOperator: 'LessThanOrEqualToThreshold', Threshold: 30, EvaluationPeriods: 5, DatapointsToAlarm: 5,
      TreatMissingData: 'notBreaching', MetricName: 'BusyWorkerRatio', Namespace: 'NewRelic',
    });
  });

  test('adds to the service\'s one scalable target (2 to 10 tasks) instead of creating another', () => {
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10, ScalableDimension: 'ecs:service:DesiredCount' });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 3);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling', ScalingTargetId: { Ref: Match.stringLikeRegexp('WorkerServiceTaskCountTarget') },
    });
  });

  test('the CPU baseline only scales out, so busy workers alone decide scale-in', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 60, DisableScaleIn: true }),
    });
  });
});

test('fails when the service\'s task count has no scalable target', () => {
  // GIVEN a hand-made IAppService whose task count is not from autoScaleTaskCount()
  const f = scalingFixture();
  const real = f.appService();
  const bogus = { ...real, node: real.node, connections: real.connections, disableCpuScaleIn: () => real.disableCpuScaleIn(),
    scalableTaskCount: f.service.node.findChild('TaskCount').node.findChild('Target') as unknown as typeof real.scalableTaskCount };
  // WHEN / THEN
  expect(() => new ServiceStepScaling(f.stack, 'Scaling', { service: bogus, metric }))
    .toThrow(/service.scalableTaskCount \("TestStack\/WorkerService\/TaskCount\/Target"\) has no scalable target child/);
});

test('custom steps become offsets from each alarm threshold', () => {
  const { template } = scale({
    scaleOutSteps: [{ lower: 80, change: 2 }, { lower: 60, upper: 80, change: 1 }],
    scaleInSteps: [{ lower: 10, upper: 20, change: -1 }, { upper: 10, change: -2 }],
  });
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
    StepScalingPolicyConfiguration: { StepAdjustments: [
      { MetricIntervalLowerBound: 0, MetricIntervalUpperBound: 20, ScalingAdjustment: 1 },
      { MetricIntervalLowerBound: 20, ScalingAdjustment: 2 },
    ] },
  });
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
    StepScalingPolicyConfiguration: { StepAdjustments: [
      { MetricIntervalUpperBound: -10, ScalingAdjustment: -2 },
      { MetricIntervalLowerBound: -10, MetricIntervalUpperBound: 0, ScalingAdjustment: -1 },
    ] },
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 20, ComparisonOperator: 'LessThanOrEqualToThreshold' });
});

describe('missing-data alarm actions (Control Tower CT.CLOUDWATCH.PR.1)', () => {
  test('without alarmTopic the missing-data alarm has no action, acknowledged as the alarmTopic option', () => {
    const { scaling, template, stack } = scale();
    const alarm = template.toJSON().Resources[stack.resolve((scaling.missingDataAlarm.node.defaultChild as cloudwatch.CfnAlarm).logicalId)];
    expect(alarm.Properties.AlarmActions).toBeUndefined();
    expect(acknowledgedControls(scaling.missingDataAlarm).cloudwatch_alarm_action_check).toMatch(/^\[option `alarmTopic`\] /);
  });

  test('with alarmTopic the missing-data alarm notifies the topic and nothing is acknowledged', () => {
    const f = scalingFixture();
    const topic = new sns.Topic(f.stack, 'Topic');
    const scaling = new ServiceStepScaling(f.stack, 'Scaling', { service: f.appService(), metric, alarmTopic: topic });
    const alarm = Template.fromStack(f.stack).toJSON().Resources[f.stack.resolve((scaling.missingDataAlarm.node.defaultChild as cloudwatch.CfnAlarm).logicalId)];
    expect(alarm.Properties.AlarmActions).toEqual([{ Ref: f.stack.resolve((topic.node.defaultChild as sns.CfnTopic).logicalId) }]);
    expect(acknowledgedControls(scaling.missingDataAlarm)).toEqual({});
  });
});

describe('validation', () => {
  test('fails when scale-out steps overlap', () => {
    expect(() => scale({ scaleOutSteps: [{ lower: 60, upper: 85, change: 1 }, { lower: 80, change: 2 }] }))
      .toThrow(/scaleOutSteps \("60\.\.85: \+1, 80\.\.∞: \+2"\) has overlapping steps \(60\.\.85 and 80\.\.∞\)/);
  });

  test('fails when scale-out steps leave a gap', () => {
    expect(() => scale({ scaleOutSteps: [{ lower: 60, upper: 70, change: 1 }, { lower: 80, change: 2 }] }))
      .toThrow(/scaleOutSteps .* leaves a gap between 70 and 80/);
  });

  test('fails when the last scale-out step has an upper bound', () => {
    expect(() => scale({ scaleOutSteps: [{ lower: 60, upper: 90, change: 1 }] })).toThrow(/scaleOutSteps \("60\.\.90: \+1"\) ends at 90: values above it would not scale out/);
  });

  test('fails when the first scale-in step has a lower bound', () => {
    expect(() => scale({ scaleInSteps: [{ lower: 5, upper: 30, change: -1 }] })).toThrow(/scaleInSteps \("5\.\.30: -1"\) starts at 5/);
  });

  test('fails when a scale-in step adds tasks', () => {
    expect(() => scale({ scaleInSteps: [{ upper: 30, change: 1 }] })).toThrow(/scaleInSteps .* change 1 is not a negative whole number/);
  });

  test('fails when scale-in and scale-out thresholds meet', () => {
    expect(() => scale({ scaleInSteps: [{ upper: 70, change: -1 }] })).toThrow(/scaleInSteps \("upper bound 70"\) must be below the first scaleOutSteps lower bound \(70\)/);
  });

  test('fails when a cooldown is longer than an hour', () => {
    expect(() => scale({ scaleInCooldown: Duration.hours(2) })).toThrow(/scaleInCooldown \("7200 seconds"\) must be from 0 seconds to 1 hour/);
  });
});
