import { Annotations, Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeControl } from '../private/guard';
import { newKey } from '../private/kms';
import { allowLogsToUse } from '../private/kms';
import { acknowledgeWildcards } from '../private/nag';
import { deleteServicesBeforeCapacity } from '../private/teardown';
import { duplicatesOf, invalidProp, requireDurationInRange, requireIntegerInRange, requireOrdered } from '../private/validation';

export interface CapacityClusterProps {
  /** The VPC the container instances run in. */
  readonly vpc: ec2.IVpc;

  /**
   * Subnets of the container instances.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;

  /**
   * Name of the ECS cluster.
   * @default - CloudFormation generates a name
   */
  readonly clusterName?: string;

  /**
   * Instance type of the On-Demand capacity.
   * @default m6i.large
   */
  readonly instanceType?: ec2.InstanceType;

  /**
   * Further instance types the On-Demand group may launch, in this order of priority after
   * `instanceType` (a mixed instances policy: Control Tower CT.AUTOSCALING.PR.6). Give types with
   * the same vCPUs and memory, so that tasks fit alike.
   * @default - `instanceType` only
   */
  readonly additionalInstanceTypes?: ec2.InstanceType[];

  /**
   * Smallest number of On-Demand container instances.
   * @default 2
   */
  readonly minCapacity?: number;

  /**
   * Largest number of On-Demand container instances.
   * @default 10
   */
  readonly maxCapacity?: number;

  /**
   * How full managed scaling keeps the instances, in percent of the tasks' reservations.
   * @default 100
   */
  readonly targetCapacityPercent?: number;

  /**
   * Instance types of an extra Spot capacity provider. Several types make Spot interruptions rarer.
   * @default - no Spot capacity provider
   */
  readonly spotInstanceTypes?: ec2.InstanceType[];

  /**
   * Largest number of Spot container instances.
   * @default - same as maxCapacity
   */
  readonly spotMaxCapacity?: number;

  /**
   * Container Insights level. `ENHANCED` adds the task-level metrics `WorkerWatchdog` reads, but
   * Control Tower's CT.ECS.PR.2 accepts only `ENABLED` (a hook refuses the cluster where it is enforced).
   * @default ecs.ContainerInsights.ENABLED
   */
  readonly containerInsights?: ecs.ContainerInsights;

  /**
   * Key that encrypts ECS Exec sessions and the log group that records them.
   * @default - a new key with rotation enabled
   */
  readonly encryptionKey?: kms.IKey;

  /**
   * Bucket that also receives the ECS Exec session logs.
   * @default - sessions are logged to CloudWatch Logs only
   */
  readonly execLogBucket?: s3.IBucket;

  /**
   * Retention of the ECS Exec session log group.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly execLogRetention?: logs.RetentionDays;

  /**
   * The ECS agent's default stop timeout (`ECS_CONTAINER_STOP_TIMEOUT`): how long containers
   * without their own stopTimeout get between SIGTERM and SIGKILL. Container definitions allow
   * at most 120 seconds; this is how job workers get longer.
   * @default - the agent's default (30 seconds)
   */
  readonly containerStopTimeout?: Duration;

  /**
   * Topic that receives the Auto Scaling groups' launch and termination notifications.
   * @default - no notifications: the ECS capacity provider drives the groups, and its events are in the cluster's event stream
   */
  readonly notificationTopic?: sns.ITopic;

  /**
   * ECS managed termination protection: ECS keeps every instance that runs a task protected from
   * scale-in, so managed scaling only removes empty instances. The price is at delete time: ECS does
   * not lift that protection when the capacity provider is deleted, so a stack delete waits on the
   * Auto Scaling group until CloudFormation times out (aws-cdk#18179) unless someone clears the
   * instances' protection by hand. Without it, managed draining still moves an instance's tasks
   * before the instance terminates (they are restarted elsewhere instead of never being picked).
   * @default false - deletes finish without manual steps; scale-in drains busy instances
   */
  readonly managedTerminationProtection?: boolean;
}

/**
 * An ECS cluster on EC2 Auto Scaling capacity providers: launch templates that require IMDSv2 and
 * boot the ECS-optimized Amazon Linux 2023 AMI (resolved from its public SSM parameter at deploy
 * time, so synth needs no lookup), managed scaling and managed draining, Container Insights, and
 * ECS Exec whose sessions are encrypted and logged.
 *
 * Teardown: the stack deletes without manual steps. Every ECS service of the stack that runs in
 * this cluster depends on the cluster's capacity provider association, so CloudFormation deletes
 * the services first, then the association, the capacity providers, the Auto Scaling groups (empty
 * of tasks by then) and the cluster last. Managed termination protection, which would block the
 * groups' deletion, is off unless `managedTerminationProtection` asks for it.
 */
export class CapacityCluster extends Construct {
  /** The ECS cluster. */
  public readonly cluster: ecs.Cluster;
  /** The On-Demand Auto Scaling group. */
  public readonly autoScalingGroup: autoscaling.AutoScalingGroup;
  /** The On-Demand capacity provider. */
  public readonly capacityProvider: ecs.AsgCapacityProvider;
  /** The Spot Auto Scaling group, when `spotInstanceTypes` is set. */
  public readonly spotAutoScalingGroup?: autoscaling.AutoScalingGroup;
  /** The Spot capacity provider, when `spotInstanceTypes` is set. */
  public readonly spotCapacityProvider?: ecs.AsgCapacityProvider;
  /** The log group that records ECS Exec sessions. */
  public readonly execLogGroup: logs.LogGroup;
  /** The key that encrypts ECS Exec sessions and their log group. */
  public readonly encryptionKey: kms.IKey;
  /** The security group of the container instances. */
  public readonly instanceSecurityGroup: ec2.SecurityGroup;
  private readonly notificationTopic?: sns.ITopic;
  private readonly containerStopTimeout?: Duration;
  private readonly managedTerminationProtection: boolean;

  constructor(scope: Construct, id: string, props: CapacityClusterProps) {
    super(scope, id);
    requireIntegerInRange(this, 'minCapacity', props.minCapacity, 0, 1000);
    requireIntegerInRange(this, 'maxCapacity', props.maxCapacity, 1, 1000);
    requireIntegerInRange(this, 'targetCapacityPercent', props.targetCapacityPercent, 1, 100);
    requireIntegerInRange(this, 'spotMaxCapacity', props.spotMaxCapacity, 1, 1000);
    requireOrdered(this, 'minCapacity', props.minCapacity ?? 2, 'maxCapacity', props.maxCapacity ?? 10);
    if (props.spotInstanceTypes !== undefined && props.spotInstanceTypes.length === 0) {
      invalidProp(this, 'spotInstanceTypes', [], 'is empty', 'Leave spotInstanceTypes unset for no Spot capacity, or list at least one instance type.');
    }
    requireDurationInRange(this, 'containerStopTimeout', props.containerStopTimeout, Duration.seconds(2), Duration.days(1), { maxReason: 'the longest time a job may need to finish' });
    validateAdditionalInstanceTypes(this, props.instanceType ?? new ec2.InstanceType('m6i.large'), props.additionalInstanceTypes);
    if (props.spotMaxCapacity !== undefined && props.spotInstanceTypes === undefined) {
      invalidProp(this, 'spotMaxCapacity', props.spotMaxCapacity, 'is set but spotInstanceTypes is not', 'Set spotInstanceTypes to add Spot capacity, or remove spotMaxCapacity.');
    }

    const vpcSubnets = props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS };

    if (props.encryptionKey) {
      this.encryptionKey = props.encryptionKey;
    } else {
      const key = newKey(this, 'ExecKey', {
        description: `Encrypts ECS Exec sessions and their logs of ${this.node.path}`,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      // CloudWatch Logs encrypts the session log group with this key.
      allowLogsToUse(key);
      this.encryptionKey = key;
    }
    this.execLogGroup = new logs.LogGroup(this, 'ExecLogGroup', {
      encryptionKey: this.encryptionKey,
      retention: props.execLogRetention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      clusterName: props.clusterName,
      containerInsightsV2: props.containerInsights ?? ecs.ContainerInsights.ENABLED,
      executeCommandConfiguration: {
        kmsKey: this.encryptionKey,
        logging: ecs.ExecuteCommandLogging.OVERRIDE,
        logConfiguration: {
          cloudWatchLogGroup: this.execLogGroup,
          cloudWatchEncryptionEnabled: true,
          s3Bucket: props.execLogBucket,
          s3EncryptionEnabled: props.execLogBucket ? true : undefined,
          s3KeyPrefix: props.execLogBucket ? 'ecs-exec/' : undefined,
        },
      },
    });

    if (props.containerInsights === ecs.ContainerInsights.ENHANCED) {
      acknowledgeControl(this.cluster, 'ecs_container_insights_enabled_check',
        'containerInsights ENHANCED collects everything ENABLED does plus task- and container-level metrics (WorkerWatchdog reads ' +
        'per-task memory from them); the control\'s rule compares the setting with "enabled" only.');
    }

    this.instanceSecurityGroup = new ec2.SecurityGroup(this, 'InstanceSecurityGroup', {
      vpc: props.vpc,
      description: `Container instances of ${this.node.path}`,
      allowAllOutbound: true,
    });
    // Lets others allow traffic from "the cluster" (e.g. the per-host log forwarders to their aggregators).
    this.cluster.connections.addSecurityGroup(this.instanceSecurityGroup);
    const role = new iam.Role(this, 'InstanceRole', {
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      description: `Container instances of ${this.node.path}`,
    });
    this.notificationTopic = props.notificationTopic;
    this.containerStopTimeout = props.containerStopTimeout;
    this.managedTerminationProtection = props.managedTerminationProtection ?? false;
    if (this.managedTerminationProtection) {
      Annotations.of(this).addWarningV2('cdk-container-patterns:ecs-termination-protection-blocks-delete',
        'managedTerminationProtection is on: ECS leaves its scale-in protection on the instances when the capacity provider is deleted, so deleting this stack '
        + 'waits on the Auto Scaling group until CloudFormation gives up (aws-cdk#18179). Before a delete, run `aws autoscaling set-instance-protection '
        + '--no-protected-from-scale-in` on the group\'s instances, or leave managedTerminationProtection unset (managed draining still drains busy instances).');
    }

    const onDemand = this.addCapacity('OnDemand', {
      vpc: props.vpc, vpcSubnets, role,
      instanceTypes: [props.instanceType ?? new ec2.InstanceType('m6i.large'), ...props.additionalInstanceTypes ?? []],
      minCapacity: props.minCapacity ?? 2,
      maxCapacity: props.maxCapacity ?? 10,
      targetCapacityPercent: props.targetCapacityPercent,
      spot: false,
    });
    this.autoScalingGroup = onDemand.asg;
    this.capacityProvider = onDemand.provider;

    if (props.spotInstanceTypes) {
      const spot = this.addCapacity('Spot', {
        vpc: props.vpc, vpcSubnets, role,
        instanceTypes: props.spotInstanceTypes,
        minCapacity: 0,
        maxCapacity: props.spotMaxCapacity ?? props.maxCapacity ?? 10,
        targetCapacityPercent: props.targetCapacityPercent,
        spot: true,
      });
      this.spotAutoScalingGroup = spot.asg;
      this.spotCapacityProvider = spot.provider;
    }

    this.cluster.addDefaultCapacityProviderStrategy([{ capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 }]);
    // Delete order: services, then the association, capacity providers, groups, and the cluster.
    deleteServicesBeforeCapacity(this.cluster);
    // The ECS agent's statements exist once the capacity providers are added.
    acknowledgeWildcards(role, [
      { finding: /^Action::ecs:Submit\*$/, reason: 'The ECS agent policy aws-cdk-lib grants container instances: the agent reports the state of any task it runs (as AmazonEC2ContainerServiceforEC2Role).' },
      {
        finding: /^Resource::\*$/,
        actions: /^(ecs:(Poll|StartTelemetrySession|DiscoverPollEndpoint)|ecr:GetAuthorizationToken|logs:(CreateLogStream|PutLogEvents))$/,
        reason: 'ECS agent actions (DiscoverPollEndpoint, Poll, StartTelemetrySession, ECR auth) accept no resource ARN; the cluster-scoped ones are scoped by aws-cdk-lib.',
      },
    ]);
  }

  /** The VPC of the cluster. */
  public get vpc(): ec2.IVpc {
    return this.cluster.vpc;
  }

  /**
   * A strategy that places every task on the On-Demand capacity provider. Pass it to services so
   * that their tasks count toward managed scaling (services with launch type EC2 do not).
   */
  public get onDemandStrategy(): ecs.CapacityProviderStrategy[] {
    return [{ capacityProvider: this.capacityProvider.capacityProviderName, weight: 1 }];
  }

  /**
   * A strategy that keeps `onDemandBase` tasks on On-Demand and places the rest on Spot.
   * Falls back to the On-Demand strategy when the cluster has no Spot capacity.
   */
  public spotStrategy(onDemandBase: number): ecs.CapacityProviderStrategy[] {
    requireIntegerInRange(this, 'onDemandBase', onDemandBase, 0, 100000);
    if (!this.spotCapacityProvider) return this.onDemandStrategy;
    return [
      { capacityProvider: this.capacityProvider.capacityProviderName, base: onDemandBase, weight: 0 },
      { capacityProvider: this.spotCapacityProvider.capacityProviderName, weight: 1 },
    ];
  }

  private addCapacity(id: string, options: {
    vpc: ec2.IVpc; vpcSubnets: ec2.SubnetSelection; role: iam.IRole; instanceTypes: ec2.InstanceType[];
    minCapacity: number; maxCapacity: number; targetCapacityPercent?: number; spot: boolean;
  }): { asg: autoscaling.AutoScalingGroup; provider: ecs.AsgCapacityProvider } {
    const launchTemplate = new ec2.LaunchTemplate(this, `${id}LaunchTemplate`, {
      machineImage: ecs.EcsOptimizedImage.amazonLinux2023(),
      instanceType: options.instanceTypes[0],
      requireImdsv2: true,
      // One hop keeps bridge-mode containers away from the instance role's credentials.
      httpPutResponseHopLimit: 1,
      role: options.role,
      securityGroup: this.instanceSecurityGroup,
      userData: ec2.UserData.forLinux(),
      detailedMonitoring: true,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(30, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
      }],
    });
    const asg = new autoscaling.AutoScalingGroup(this, `${id}AutoScalingGroup`, {
      vpc: options.vpc,
      vpcSubnets: options.vpcSubnets,
      minCapacity: options.minCapacity,
      maxCapacity: options.maxCapacity,
      ...(options.spot || options.instanceTypes.length > 1
        ? {
          mixedInstancesPolicy: {
            launchTemplate,
            instancesDistribution: options.spot
              ? {
                onDemandBaseCapacity: 0,
                onDemandPercentageAboveBaseCapacity: 0,
                spotAllocationStrategy: autoscaling.SpotAllocationStrategy.PRICE_CAPACITY_OPTIMIZED,
              }
              : { onDemandPercentageAboveBaseCapacity: 100, onDemandAllocationStrategy: autoscaling.OnDemandAllocationStrategy.PRIORITIZED },
            launchTemplateOverrides: options.instanceTypes.map((instanceType) => ({ instanceType })),
          },
        }
        : { launchTemplate }),
      healthChecks: autoscaling.HealthChecks.ec2({ gracePeriod: Duration.minutes(5) }),
      groupMetrics: [autoscaling.GroupMetrics.all()],
      notifications: this.notificationTopic ? [{ topic: this.notificationTopic }] : undefined,
    });
    // CT.AUTOSCALING.PR.1 reads AvailabilityZones, which aws-cdk-lib leaves to VPCZoneIdentifier: name the subnets' zones too.
    const zones = [...new Set(options.vpc.selectSubnets(options.vpcSubnets).availabilityZones)];
    (asg.node.defaultChild as autoscaling.CfnAutoScalingGroup).availabilityZones = zones;
    if (options.instanceTypes.length < 2) {
      acknowledgeControl(asg, 'autoscaling_mixed_instances_policy_multiple_instance_types_check',
        'Which other instance types suit the tasks (same vCPUs and memory, a region that offers them) only the user knows; ' +
        'additionalInstanceTypes adds them to a prioritized mixed instances policy of the On-Demand group.', 'additionalInstanceTypes');
    }
    if (!this.notificationTopic) {
      Validations.of(asg).acknowledge({
        id: 'AwsSolutions-AS3',
        reason: 'The ECS capacity provider launches and drains these instances; ECS cluster events and Container Insights record every change. Set notificationTopic for SNS notifications.',
      });
    }
    if (options.spot || options.instanceTypes.length > 1) {
      Validations.of(asg).acknowledge({
        id: 'AwsSolutions-EC26',
        reason: 'The launch template of the mixed instances policy encrypts the root EBS volume; cdk-nag only inspects a launch template the group references directly.',
      });
    }
    const provider = new ecs.AsgCapacityProvider(this, `${id}CapacityProvider`, {
      autoScalingGroup: asg,
      enableManagedScaling: true,
      enableManagedTerminationProtection: this.managedTerminationProtection,
      enableManagedDraining: true,
      targetCapacityPercent: options.targetCapacityPercent ?? 100,
    });
    this.cluster.addAsgCapacityProvider(provider, { machineImageType: ecs.MachineImageType.AMAZON_LINUX_2 });
    if (this.containerStopTimeout) {
      asg.addUserData(`echo ECS_CONTAINER_STOP_TIMEOUT=${this.containerStopTimeout.toSeconds()}s >> /etc/ecs/ecs.config`);
    }
    if (options.spot) {
      // The agent drains a Spot instance as soon as its two-minute interruption notice arrives.
      // (aws-cdk-lib writes this only for groups with a spotPrice, not for mixed instances policies.)
      asg.addUserData('echo ECS_ENABLE_SPOT_INSTANCE_DRAINING=true >> /etc/ecs/ecs.config');
    }
    return { asg, provider };
  }
}

/** The On-Demand group's further types: at least one, none repeated (the mixed instances policy needs distinct types). */
function validateAdditionalInstanceTypes(scope: Construct, instanceType: ec2.InstanceType, additional: ec2.InstanceType[] | undefined): void {
  if (additional === undefined) return;
  if (additional.length === 0) {
    invalidProp(scope, 'additionalInstanceTypes', [], 'is empty', 'Leave additionalInstanceTypes unset for instanceType only, or list at least one other instance type.');
  }
  const names = [instanceType, ...additional].map((t) => t.toString());
  const repeated = duplicatesOf(names);
  if (repeated.length > 0) {
    invalidProp(scope, 'additionalInstanceTypes', repeated, 'repeat an instance type (instanceType is the first of the list)', 'List each instance type once, other than instanceType.');
  }
}
