import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';

/** A managed node group: what {@link EksPlatform.addNodeGroup} takes. */
export interface EksNodeGroupOptions {
  /**
   * On-demand or Spot.
   *
   * @default eks.CapacityType.ON_DEMAND
   */
  readonly capacityType?: eks.CapacityType;

  /**
   * Instance types. Give Spot several types of the same size, so one type's interruption wave
   * does not take the whole group.
   *
   * @default - m6i.large for on-demand; m6i.large, m6a.large, m5.large and m5a.large for Spot
   */
  readonly instanceTypes?: ec2.InstanceType[];

  /**
   * Minimum number of nodes.
   *
   * @default 1
   */
  readonly minSize?: number;

  /**
   * Maximum number of nodes.
   *
   * @default - the larger of 3 and minSize
   */
  readonly maxSize?: number;

  /**
   * Number of nodes at creation.
   *
   * @default - minSize
   */
  readonly desiredSize?: number;

  /**
   * Root volume size in GiB (gp3, encrypted).
   *
   * @default 50
   */
  readonly diskSizeGiB?: number;

  /**
   * One-minute EC2 metrics for the nodes (AWS Control Tower CT.EC2.PR.10);
   * about USD 2 per node and month.
   *
   * @default true
   */
  readonly detailedMonitoring?: boolean;

  /**
   * Kubernetes labels put on the nodes.
   *
   * @default - only the capacity-type label EKS adds
   */
  readonly labels?: { [name: string]: string };

  /**
   * Kubernetes taints put on the nodes.
   *
   * @default - none
   */
  readonly taints?: eks.TaintSpec[];
}
