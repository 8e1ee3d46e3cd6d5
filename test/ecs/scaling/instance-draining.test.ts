import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { InstanceDraining, InstanceDrainingMechanism } from '../../../lib';
import { scalingFixture } from './fixture';

describe('MANAGED_DRAINING (default)', () => {
  test('adds nothing when the capacity provider scales and drains', () => {
    // GIVEN
    const f = scalingFixture('managed');
    // WHEN
    const draining = new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg });
    // THEN
    const template = Template.fromStack(f.stack);
    expect(draining.mechanism).toBe(InstanceDrainingMechanism.MANAGED_DRAINING);
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 0);
    expect(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'instance-drainer' }) } } })).toEqual({});
    template.resourceCountIs('AWS::Events::Rule', 0);
    template.hasResourceProperties('AWS::ECS::CapacityProvider', { AutoScalingGroupProvider: { ManagedDraining: 'ENABLED', ManagedScaling: Match.objectLike({ Status: 'ENABLED' }) } });
  });

  test('fails when the capacity provider has managed draining disabled', () => {
    const f = scalingFixture('managed-no-draining');
    new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg });
    expect(() => Template.fromStack(f.stack)).toThrow(/mechanism MANAGED_DRAINING: capacity provider TestStack\/Provider has managed draining disabled/);
  });

  test('fails when no capacity provider manages the group', () => {
    const f = scalingFixture('managed');
    const lonely = new autoscaling.AutoScalingGroup(f.stack, 'Lonely', {
      vpc: f.vpc, instanceType: new ec2.InstanceType('m7g.large'), machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM),
    });
    new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: lonely });
    expect(() => Template.fromStack(f.stack)).toThrow(/needs an ecs.AsgCapacityProvider for TestStack\/Lonely .* none was found/);
  });

  test('fails when a LIFECYCLE_HOOK-only prop is given', () => {
    const f = scalingFixture('managed');
    expect(() => new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, drainTimeout: Duration.minutes(5) }))
      .toThrow(/drainTimeout \("5 minutes"\) only applies to InstanceDrainingMechanism.LIFECYCLE_HOOK/);
  });
});

describe('LIFECYCLE_HOOK', () => {
  const f = scalingFixture('unmanaged');
  new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK });
  const template = Template.fromStack(f.stack);

  test('replaces the drain hook aws-cdk-lib gives a group without managed draining', () => {
    template.resourceCountIs('AWS::AutoScaling::LifecycleHook', 1);
    expect(f.asg.node.tryFindChild('DrainECSHook')).toBeUndefined();
    expect(f.asg.node.tryFindChild('LifecycleHookDrainHook')).toBeUndefined();
    template.resourceCountIs('AWS::SNS::Topic', 0);
  });

  test('holds terminating instances in a hook for at most 15 minutes', () => {
    template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', {
      LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING', HeartbeatTimeout: 900, DefaultResult: 'CONTINUE',
    });
  });

  test('runs the drainer on the lifecycle event and every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', { EventPattern: {
      'source': ['aws.autoscaling'], 'detail-type': ['EC2 Instance-terminate Lifecycle Action'],
      'detail': { AutoScalingGroupName: [{ Ref: Match.stringLikeRegexp('AsgASG') }], LifecycleHookName: [{ Ref: Match.stringLikeRegexp('DrainingHook') }] },
    } });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({
      CLUSTER_NAME: { Ref: Match.stringLikeRegexp('Cluster') }, LIFECYCLE_HOOK_NAME: { Ref: Match.stringLikeRegexp('DrainingHook') },
    }) } });
  });

  test('removes one instance after 15 low-CPU minutes; missing data never scales in', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'CPUUtilization', Namespace: 'AWS/EC2', ComparisonOperator: 'LessThanOrEqualToThreshold', Threshold: 25,
      EvaluationPeriods: 15, TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::AutoScaling::ScalingPolicy', {
      PolicyType: 'StepScaling', StepAdjustments: [{ MetricIntervalUpperBound: 0, ScalingAdjustment: -1 }],
    });
  });

  test('may drain only this cluster and complete only this group', () => {
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([
      Match.objectLike({ Action: ['ecs:DescribeContainerInstances', 'ecs:UpdateContainerInstancesState'], Condition: { ArnEquals: { 'ecs:cluster': Match.anyValue() } } }),
      Match.objectLike({ Action: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'] }),
    ]) } });
  });
});

describe('LIFECYCLE_HOOK validation', () => {
  test('fails when the group also has a capacity provider with managed scaling and draining', () => {
    const f = scalingFixture('managed');
    new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK });
    expect(() => Template.fromStack(f.stack)).toThrow(/LIFECYCLE_HOOK cannot share TestStack\/Asg with capacity provider TestStack\/Provider, which has managed scaling, managed draining enabled/);
  });

  test('fails when aws-cdk-lib adds its own drain hook after the construct', () => {
    const f = scalingFixture('unmanaged', Duration.minutes(5), true);
    new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK });
    f.addProvider();
    expect(() => Template.fromStack(f.stack)).toThrow(/cannot share TestStack\/Asg with the drain hook aws-cdk-lib added to it \(DrainECSHook\) after the InstanceDraining construct was created/);
  });

  test('fails when drainTimeout exceeds the two-hour hook limit', () => {
    const f = scalingFixture('unmanaged');
    expect(() => new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK, drainTimeout: Duration.hours(3) }))
      .toThrow(/drainTimeout \("3 hours"\) exceeds 2 hours \(the lifecycle hook heartbeat limit\)/);
  });

  test('fails when the scale-in CPU threshold is not below the scale-out one', () => {
    const f = scalingFixture('unmanaged');
    expect(() => new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK, scaleInCpuPercent: 70, scaleOutCpuPercent: 60 }))
      .toThrow(/scaleInCpuPercent \(70\) must be below scaleOutCpuPercent \(60\)/);
  });
});

test('LIFECYCLE_HOOK bounds the wait: heartbeats for at most maxDrainTime, then the hook timeout', () => {
  const f = scalingFixture('unmanaged');
  new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK, maxDrainTime: Duration.minutes(90) });
  const template = Template.fromStack(f.stack);
  template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ MAX_DRAIN_SECONDS: '5400' }) } });
  template.hasResourceProperties('AWS::AutoScaling::LifecycleHook', { HeartbeatTimeout: 900, DefaultResult: 'CONTINUE' });
});

test('LIFECYCLE_HOOK accepts an imported Auto Scaling group', () => {
  const f = scalingFixture('unmanaged');
  const imported = autoscaling.AutoScalingGroup.fromAutoScalingGroupName(f.stack, 'Imported', 'workers-asg');
  new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: imported, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK });
  Template.fromStack(f.stack).hasResourceProperties('AWS::AutoScaling::LifecycleHook', { AutoScalingGroupName: 'workers-asg' });
});

test('fails when maxDrainTime is beyond what AWS allows a wait', () => {
  const f = scalingFixture('unmanaged');
  expect(() => new InstanceDraining(f.stack, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK, maxDrainTime: Duration.hours(48) }))
    .toThrow(/maxDrainTime \("2 days"\) exceeds 1 day 23 hours/);
});

