import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { newKey } from '../private/kms';
import { CapacityCluster } from './capacity-cluster';
import { allowLogsToUse } from '../private/kms';
import { acknowledgeDefaultSecurityGroupLockdown } from '../private/guard';
import { ignoreRedundantDependsOn } from '../private/cfn-lint';
import { requireIntegerInRange } from '../private/validation';

/** Capacity of one of the platform's clusters. */
export interface PlatformClusterOptions {
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
   * Instance types of an extra Spot capacity provider.
   * @default - no Spot capacity
   */
  readonly spotInstanceTypes?: ec2.InstanceType[];
  /**
   * Largest number of Spot container instances.
   * @default - same as maxCapacity
   */
  readonly spotMaxCapacity?: number;
  /**
   * The ECS agent's default stop timeout on these instances (for job workers that need more than 120 seconds).
   * @default - the agent's default (30 seconds)
   */
  readonly containerStopTimeout?: Duration;
  /**
   * ECS managed termination protection on this cluster's capacity providers. It blocks stack deletes
   * (see `CapacityClusterProps.managedTerminationProtection`).
   * @default false
   */
  readonly managedTerminationProtection?: boolean;
}

export interface EcsPlatformProps {
  /**
   * The VPC to run in; pass `ec2.Vpc.fromVpcAttributes(...)` (not a lookup) to stay environment-agnostic.
   * @default - a new VPC with public and private subnets in `maxAzs` AZs, one NAT gateway per AZ, an S3 gateway endpoint, and flow logs
   */
  readonly vpc?: ec2.IVpc;
  /**
   * AZs of the new VPC; ignored when `vpc` is given.
   * @default 2
   */
  readonly maxAzs?: number;
  /**
   * Capacity of the application cluster (the long-running services).
   * @default - m6i.large, 2 to 10 instances, no Spot
   */
  readonly application?: PlatformClusterOptions;
  /**
   * Capacity of the utility cluster (migrations, asset uploads, batch jobs, log aggregators).
   * @default - m6i.large, 2 to 10 instances, no Spot
   */
  readonly utility?: PlatformClusterOptions;
  /**
   * Container Insights level of both clusters (`ENHANCED` for `WorkerWatchdog`, see `CapacityClusterProps.containerInsights`).
   * @default ecs.ContainerInsights.ENABLED
   */
  readonly containerInsights?: ecs.ContainerInsights;
}

/**
 * The ECS platform of the FiNC talk: an application cluster for the long-running services and a
 * utility cluster for one-off tasks (asset upload, DB migration, batch jobs), both on EC2 capacity
 * providers, in a new or an imported VPC, sharing one key for ECS Exec sessions and logs.
 */
export class EcsPlatform extends Construct {
  /** The VPC both clusters run in. */
  public readonly vpc: ec2.IVpc;
  /** The application cluster. */
  public readonly application: CapacityCluster;
  /** The utility cluster. */
  public readonly utility: CapacityCluster;
  /** Encrypts ECS Exec sessions, their logs and the flow logs. */
  public readonly encryptionKey: kms.Key;

  constructor(scope: Construct, id: string, props: EcsPlatformProps = {}) {
    super(scope, id);
    requireIntegerInRange(this, 'maxAzs', props.maxAzs, 1, 6);

    this.encryptionKey = newKey(this, 'Key', {
      description: `Encrypts ECS Exec sessions and platform logs of ${this.node.path}`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    allowLogsToUse(this.encryptionKey);

    if (props.vpc) {
      this.vpc = props.vpc;
    } else {
      const vpc = new ec2.Vpc(this, 'Vpc', {
        maxAzs: props.maxAzs ?? 2,
        subnetConfiguration: [
          // Load balancers and NAT gateways have their own addresses: nothing launched here needs a public IP.
          { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
          { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        ],
        // Log aggregators and image pulls reach S3 without paying NAT gateway processing per GB.
        gatewayEndpoints: { S3: { service: ec2.GatewayVpcEndpointAwsService.S3 } },
      });
      const flowLogGroup = new logs.LogGroup(this, 'FlowLogGroup', {
        retention: logs.RetentionDays.ONE_YEAR,
        encryptionKey: this.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      vpc.addFlowLog('FlowLog', { destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogGroup) });
      // The restrict-default-security-group provider of aws-cdk-lib writes a DependsOn its GetAtt implies.
      const provider = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
      ignoreRedundantDependsOn(provider?.node.tryFindChild('Handler'));
      acknowledgeDefaultSecurityGroupLockdown(this);
      this.vpc = vpc;
    }

    this.application = this.clusterOf('Application', props.application ?? {}, props.containerInsights);
    this.utility = this.clusterOf('Utility', props.utility ?? {}, props.containerInsights);
  }

  private clusterOf(id: string, options: PlatformClusterOptions, containerInsights?: ecs.ContainerInsights): CapacityCluster {
    return new CapacityCluster(this, id, {
      vpc: this.vpc,
      encryptionKey: this.encryptionKey,
      containerInsights,
      instanceType: options.instanceType,
      additionalInstanceTypes: options.additionalInstanceTypes,
      minCapacity: options.minCapacity,
      maxCapacity: options.maxCapacity,
      spotInstanceTypes: options.spotInstanceTypes,
      spotMaxCapacity: options.spotMaxCapacity,
      containerStopTimeout: options.containerStopTimeout,
      managedTerminationProtection: options.managedTerminationProtection,
    });
  }
}
