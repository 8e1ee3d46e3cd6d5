import { Duration, Stack } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwactions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { Construct, IConstruct } from 'constructs';
import { HandlerFunction } from '../../private/handler-function';
import { acknowledgeWildcards } from '../../private/nag';
import { invalidProp, requireDurationInRange, requireIntegerInRange } from '../../private/validation';
import { adjustmentsFor, stepAlarm, validateSteps } from './private/step-policy';
import { FunctionVpcPlacement } from '../../common/function-placement';

/** How container instances are emptied before their EC2 instance terminates. */
export enum InstanceDrainingMechanism {
  /**
   * ECS capacity-provider managed scaling with managed draining: ECS sizes the group and drains an
   * instance before Auto Scaling terminates it. The construct checks that the group's capacity
   * provider has both enabled and adds nothing else.
   */
  MANAGED_DRAINING = 'MANAGED_DRAINING',
  /**
   * The talk's variant: CPU alarms scale the group, a termination lifecycle hook holds the instance,
   * and a Lambda function sets its container instance to DRAINING and completes the lifecycle action
   * only once it runs no tasks (or the hook's heartbeat timeout passes). The group's capacity
   * provider must not use managed scaling, managed termination protection or managed draining; the
   * drain hook aws-cdk-lib's Cluster adds to such a group is replaced.
   */
  LIFECYCLE_HOOK = 'LIFECYCLE_HOOK',
}

/** Props of {@link InstanceDraining}. */
export interface InstanceDrainingProps {
  /**
   * Runs the function of this construct in a VPC (AWS Control Tower control CT.LAMBDA.PR.3).
   *
   * @default - outside a VPC; the control is acknowledged on the function, with the reason
   */
  readonly functionPlacement?: FunctionVpcPlacement;
  /** The cluster the group's instances are registered in. */
  readonly cluster: ecs.ICluster;
  /**
   * The group whose instances are drained before termination. LIFECYCLE_HOOK accepts an imported
   * group too; MANAGED_DRAINING needs the group's capacity provider in the same app.
   */
  readonly autoScalingGroup: autoscaling.IAutoScalingGroup;
  /**
   * The mechanism.
   * @default InstanceDrainingMechanism.MANAGED_DRAINING
   */
  readonly mechanism?: InstanceDrainingMechanism;
  /**
   * LIFECYCLE_HOOK: how long an instance may wait for its tasks to move before it terminates anyway
   * (the hook's heartbeat timeout). Make it longer than the services' stop timeouts.
   * @default Duration.minutes(15)
   */
  readonly drainTimeout?: Duration;
  /**
   * LIFECYCLE_HOOK: longest time lifecycle heartbeats keep an instance in Terminating:Wait while it still
   * runs tasks. No instance waits longer than `maxDrainTime + drainTimeout`; then the hook's default
   * result (CONTINUE) terminates it.
   * @default Duration.hours(1)
   */
  readonly maxDrainTime?: Duration;
  /**
   * LIFECYCLE_HOOK: average CPU utilization of the group (percent) at or below which one instance is removed.
   * @default 25
   */
  readonly scaleInCpuPercent?: number;
  /**
   * LIFECYCLE_HOOK: average CPU utilization of the group (percent) at or above which one instance is added.
   * @default 70
   */
  readonly scaleOutCpuPercent?: number;
  /**
   * LIFECYCLE_HOOK: consecutive low-CPU minutes before an instance is removed.
   * @default 15
   */
  readonly scaleInEvaluationMinutes?: number;
}

const TERMINATE_EVENT = 'EC2 Instance-terminate Lifecycle Action';
/** Id of the drain hook aws-cdk-lib's Cluster adds to an Auto Scaling group. */
const CDK_DRAIN_HOOK_ID = 'DrainECSHook';
/** Id of the lifecycle hook (and its SNS topic) that drain hook adds to the group itself. */
const CDK_DRAIN_LIFECYCLE_HOOK_ID = 'LifecycleHookDrainHook';

/**
 * Drain-before-terminate for an ECS cluster's Auto Scaling group, by one of two mechanisms
 * ({@link InstanceDrainingMechanism}).
 */
export class InstanceDraining extends Construct {
  /** The mechanism in use. */
  public readonly mechanism: InstanceDrainingMechanism;
  /** LIFECYCLE_HOOK: the draining function. */
  public readonly drainFunction?: lambda.IFunction;
  /** LIFECYCLE_HOOK: the termination hook. */
  public readonly lifecycleHook?: autoscaling.LifecycleHook;
  /** LIFECYCLE_HOOK: the low-CPU alarm that removes an instance (missing data: not breaching). */
  public readonly scaleInAlarm?: cloudwatch.Alarm;
  /** LIFECYCLE_HOOK: the high-CPU alarm that adds an instance. */
  public readonly scaleOutAlarm?: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: InstanceDrainingProps) {
    super(scope, id);
    this.mechanism = props.mechanism ?? InstanceDrainingMechanism.MANAGED_DRAINING;
    const asg = props.autoScalingGroup;
    if (this.mechanism === InstanceDrainingMechanism.MANAGED_DRAINING) {
      for (const prop of ['drainTimeout', 'maxDrainTime', 'scaleInCpuPercent', 'scaleOutCpuPercent', 'scaleInEvaluationMinutes'] as const) {
        const value = props[prop];
        if (value !== undefined) {
          invalidProp(this, prop, value instanceof Duration ? value.toHumanString() : value, 'only applies to InstanceDrainingMechanism.LIFECYCLE_HOOK', `Remove ${prop}, or choose the LIFECYCLE_HOOK mechanism.`);
        }
      }
      // The capacity provider may be created after this construct: check once the tree is complete.
      this.node.addValidation({ validate: () => this.checkManagedDraining(asg) });
      return;
    }

    const drainTimeout = props.drainTimeout ?? Duration.minutes(15);
    const maxDrainTime = props.maxDrainTime ?? Duration.hours(1);
    // AWS ends any wait after 100 heartbeat timeouts or 48 hours, whichever is shorter.
    requireDurationInRange(this, 'maxDrainTime', maxDrainTime, Duration.minutes(1), Duration.hours(47));
    const scaleIn = props.scaleInCpuPercent ?? 25;
    const scaleOut = props.scaleOutCpuPercent ?? 70;
    const evaluationMinutes = props.scaleInEvaluationMinutes ?? 15;
    requireDurationInRange(this, 'drainTimeout', drainTimeout, Duration.seconds(30), Duration.hours(2), { maxReason: 'the lifecycle hook heartbeat limit' });
    requireIntegerInRange(this, 'scaleInCpuPercent', scaleIn, 1, 99);
    requireIntegerInRange(this, 'scaleOutCpuPercent', scaleOut, 1, 100);
    requireIntegerInRange(this, 'scaleInEvaluationMinutes', evaluationMinutes, 1, 60);
    const inSteps = validateSteps(this, 'scaleInCpuPercent', [{ upper: scaleIn, change: -1 }], 'in');
    const outSteps = validateSteps(this, 'scaleOutCpuPercent', [{ lower: scaleOut, change: 1 }], 'out');
    if (scaleIn >= scaleOut) {
      invalidProp(this, 'scaleInCpuPercent', scaleIn, `must be below scaleOutCpuPercent (${scaleOut})`, 'Leave a band where the group size does not change.');
    }
    // Without managed draining, Cluster.addAsgCapacityProvider() gives the group aws-cdk-lib's own
    // drain hook (child 'DrainECSHook', and its typed options can no longer turn it off). It is an
    // older form of this mechanism; two hooks would drain every instance twice, so it is replaced.
    if (asg.node.tryRemoveChild(CDK_DRAIN_HOOK_ID)) asg.node.tryRemoveChild(CDK_DRAIN_LIFECYCLE_HOOK_ID);
    this.node.addValidation({ validate: () => this.checkLifecycleHookAlone(asg) });

    this.lifecycleHook = new autoscaling.LifecycleHook(this, 'Hook', {
      autoScalingGroup: asg,
      lifecycleTransition: autoscaling.LifecycleTransition.INSTANCE_TERMINATING,
      heartbeatTimeout: drainTimeout,
      // After the timeout the instance terminates whatever its state: the hook bounds the wait.
      defaultResult: autoscaling.DefaultResult.CONTINUE,
    });

    const handler = new HandlerFunction(this, 'Drainer', {
      placement: props.functionPlacement,
      placementProp: 'functionPlacement',
      handler: 'instance-drainer',
      serviceName: 'instance-drainer',
      description: 'Drains ECS container instances waiting in the termination lifecycle hook',
      timeout: Duration.seconds(60),
      environment: {
        CLUSTER_NAME: props.cluster.clusterName,
        AUTO_SCALING_GROUP_NAME: asg.autoScalingGroupName,
        LIFECYCLE_HOOK_NAME: this.lifecycleHook.lifecycleHookName,
        MAX_DRAIN_SECONDS: String(maxDrainTime.toSeconds()),
      },
    });
    this.drainFunction = handler.function;
    this.grantDrainer(handler.role, props.cluster, asg);

    const target = new targets.LambdaFunction(handler.function, { retryAttempts: 2 });
    new events.Rule(this, 'TerminatingRule', {
      description: 'Starts draining as soon as an instance enters the termination hook',
      eventPattern: {
        source: ['aws.autoscaling'],
        detailType: [TERMINATE_EVENT],
        detail: { AutoScalingGroupName: [asg.autoScalingGroupName], LifecycleHookName: [this.lifecycleHook.lifecycleHookName] },
      },
      targets: [target],
    });
    // The wait loop: every minute the function re-checks the waiting instances until each is empty.
    new events.Rule(this, 'Recheck', {
      description: 'Re-checks draining instances once a minute',
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [target],
    });

    const cpu = new cloudwatch.Metric({
      namespace: 'AWS/EC2',
      metricName: 'CPUUtilization',
      dimensionsMap: { AutoScalingGroupName: asg.autoScalingGroupName },
      statistic: cloudwatch.Stats.AVERAGE,
      period: Duration.minutes(1),
    });
    const inPolicy = adjustmentsFor(inSteps, 'in');
    const scaleInAction = new autoscaling.StepScalingAction(this, 'ScaleIn', {
      autoScalingGroup: asg,
      adjustmentType: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      metricAggregationType: autoscaling.MetricAggregationType.AVERAGE,
    });
    inPolicy.adjustments.forEach((a) => scaleInAction.addAdjustment(a));
    this.scaleInAlarm = stepAlarm(this, 'ScaleInAlarm', {
      metric: cpu, threshold: inPolicy.threshold, direction: 'in', evaluationPeriods: evaluationMinutes,
      description: `Remove one instance (drained first) when CPU stays at or below ${scaleIn}%`,
    });
    this.scaleInAlarm.addAlarmAction(new cwactions.AutoScalingAction(scaleInAction));

    const outPolicy = adjustmentsFor(outSteps, 'out');
    const scaleOutAction = new autoscaling.StepScalingAction(this, 'ScaleOut', {
      autoScalingGroup: asg,
      adjustmentType: autoscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      metricAggregationType: autoscaling.MetricAggregationType.AVERAGE,
      estimatedInstanceWarmup: Duration.minutes(3),
    });
    outPolicy.adjustments.forEach((a) => scaleOutAction.addAdjustment(a));
    this.scaleOutAlarm = stepAlarm(this, 'ScaleOutAlarm', {
      metric: cpu, threshold: outPolicy.threshold, direction: 'out', evaluationPeriods: 3,
      description: `Add one instance when CPU stays at or above ${scaleOut}%`,
    });
    this.scaleOutAlarm.addAlarmAction(new cwactions.AutoScalingAction(scaleOutAction));
  }

  private grantDrainer(role: iam.Role, cluster: ecs.ICluster, asg: autoscaling.IAutoScalingGroup): void {
    const stack = Stack.of(this);
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:ListContainerInstances'],
      resources: [cluster.clusterArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['ecs:DescribeContainerInstances', 'ecs:UpdateContainerInstancesState'],
      resources: [stack.formatArn({ service: 'ecs', resource: 'container-instance', resourceName: `${cluster.clusterName}/*` })],
      conditions: { ArnEquals: { 'ecs:cluster': cluster.clusterArn } },
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['autoscaling:CompleteLifecycleAction', 'autoscaling:RecordLifecycleActionHeartbeat'],
      resources: [asg.autoScalingGroupArn],
    }));
    role.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['autoscaling:DescribeAutoScalingGroups', 'autoscaling:DescribeScalingActivities'],
      resources: ['*'],
    }));
    acknowledgeWildcards(this, [
      { finding: /^Resource::\*$/, reason: 'autoscaling:DescribeAutoScalingGroups and DescribeScalingActivities have no resource-level permissions; the drainer only reads its own group with them.' },
      { finding: /^Resource::arn:.*:ecs:.*:container-instance\/.*\/\*$/, reason: 'Container instance ARNs are only known at run time; the statement is limited to this cluster by the ecs:cluster condition.' },
      { finding: /^Resource::arn:.*:autoscaling:.*:autoScalingGroup:\*:autoScalingGroupName\/.+$/, reason: 'The group id in an Auto Scaling group ARN is a generated UUID; the group name pins CompleteLifecycleAction to this group.' },
    ]);
  }

  /** Capacity providers in the app that manage this group. */
  private static providersOf(asg: autoscaling.IAutoScalingGroup): ecs.AsgCapacityProvider[] {
    const root = Stack.of(asg).node.root;
    return root.node.findAll().filter((c: IConstruct): c is ecs.AsgCapacityProvider => c instanceof ecs.AsgCapacityProvider && c.autoScalingGroup === asg);
  }

  private static providerSettings(provider: ecs.AsgCapacityProvider): { scaling: boolean; draining: boolean; termination: boolean } {
    const cfn = provider.node.children.find((c): c is ecs.CfnCapacityProvider => c instanceof ecs.CfnCapacityProvider);
    if (!cfn) return { scaling: false, draining: false, termination: false };
    const p = Stack.of(provider).resolve(cfn.autoScalingGroupProvider) as { managedScaling?: { status?: string }; managedDraining?: string; managedTerminationProtection?: string };
    return {
      scaling: p.managedScaling !== undefined && p.managedScaling.status !== 'DISABLED',
      // ECS turns managed draining on when the property is left out.
      draining: p.managedDraining !== 'DISABLED',
      termination: p.managedTerminationProtection === 'ENABLED',
    };
  }

  private checkManagedDraining(asg: autoscaling.IAutoScalingGroup): string[] {
    const providers = InstanceDraining.providersOf(asg);
    if (providers.length === 0) {
      return [`mechanism MANAGED_DRAINING needs an ecs.AsgCapacityProvider for ${asg.node.path} with managed scaling and managed draining; none was found. Add one with cluster.addAsgCapacityProvider(), or choose InstanceDrainingMechanism.LIFECYCLE_HOOK.`];
    }
    return providers.flatMap((p) => {
      const s = InstanceDraining.providerSettings(p);
      const off = [!s.scaling ? 'managed scaling' : undefined, !s.draining ? 'managed draining' : undefined].filter((x) => x !== undefined);
      return off.length === 0 ? [] : [`mechanism MANAGED_DRAINING: capacity provider ${p.node.path} has ${off.join(' and ')} disabled. Set enableManagedScaling and enableManagedDraining to true.`];
    });
  }

  private checkLifecycleHookAlone(asg: autoscaling.IAutoScalingGroup): string[] {
    // A drain hook added after this construct was created cannot be replaced any more.
    const builtIn = asg.node.tryFindChild(CDK_DRAIN_HOOK_ID) ? [`mechanism LIFECYCLE_HOOK cannot share ${asg.node.path} with the drain hook aws-cdk-lib added to it (${CDK_DRAIN_HOOK_ID}) `
      + 'after the InstanceDraining construct was created. Create InstanceDraining after cluster.addAsgCapacityProvider() or cluster.addAutoScalingGroup().'] : [];
    return [...builtIn, ...InstanceDraining.providersOf(asg).flatMap((p) => {
      const s = InstanceDraining.providerSettings(p);
      const on = [s.scaling ? 'managed scaling' : undefined, s.termination ? 'managed termination protection' : undefined, s.draining ? 'managed draining' : undefined]
        .filter((x) => x !== undefined);
      return on.length === 0 ? [] : [`mechanism LIFECYCLE_HOOK cannot share ${asg.node.path} with capacity provider ${p.node.path}, which has ${on.join(', ')} enabled: two mechanisms would scale and drain the same instances. `
        + 'Set enableManagedScaling, enableManagedTerminationProtection and enableManagedDraining to false on it, or use InstanceDrainingMechanism.MANAGED_DRAINING.'];
    })];
  }
}
