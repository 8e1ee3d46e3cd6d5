import { Annotations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { duplicatesOf, invalidProp, requireIntegerInRange, requireOrdered } from '../../private/validation';
import { EksNodeGroupOptions } from '../node-group';

const ON_DEMAND_TYPES = ['m6i.large'];
const SPOT_TYPES = ['m6i.large', 'm6a.large', 'm5.large', 'm5a.large'];

/** Checks a node group's sizes and instance types; `id` prefixes every prop in the messages. */
export function validateNodeGroup(scope: Construct, id: string, o: EksNodeGroupOptions): void {
  const p = (name: string) => `${id}.${name}`;
  requireIntegerInRange(scope, p('minSize'), o.minSize, 0, 450);
  requireIntegerInRange(scope, p('maxSize'), o.maxSize, 1, 450);
  requireIntegerInRange(scope, p('desiredSize'), o.desiredSize, 0, 450);
  requireIntegerInRange(scope, p('diskSizeGiB'), o.diskSizeGiB, 20, 16384);
  if (o.maxSize !== undefined) requireOrdered(scope, p('minSize'), o.minSize ?? 1, p('maxSize'), o.maxSize);
  const min = o.minSize ?? 1;
  const max = o.maxSize ?? Math.max(3, min);
  requireOrdered(scope, p('minSize'), min, p('desiredSize'), o.desiredSize);
  requireOrdered(scope, p('desiredSize'), o.desiredSize, p('maxSize'), max);
  if (o.instanceTypes && o.instanceTypes.length === 0) {
    invalidProp(scope, p('instanceTypes'), [], 'must list at least one instance type', 'List instance types, or leave the prop out for the defaults.');
  }
  if (o.instanceTypes) {
    const names = o.instanceTypes.map((t) => t.toString());
    const dup = duplicatesOf(names);
    if (dup.length > 0) invalidProp(scope, p('instanceTypes'), dup, 'are listed more than once', 'List each instance type once.');
    if (new Set(o.instanceTypes.map((t) => t.architecture)).size > 1) {
      invalidProp(scope, p('instanceTypes'), names, 'mixes ARM and x86 instance types',
        'Use one architecture per node group; add a second node group for the other.');
    }
  }
}

/** What a managed node group of the platform is built from. */
export interface PlatformNodeGroupContext {
  readonly cluster: eks.Cluster;
  readonly nodeRole: iam.IRole;
  /** Node groups wait for it: aws-node must be the managed add-on (with its Pod Identity role) before nodes boot. */
  readonly vpcCni: Construct;
}

/**
 * A managed node group whose instances use a launch template that requires IMDSv2 with a hop
 * limit of 1 (pods cannot reach the node's credentials) and encrypts the root volume. The launch
 * template is created in `scope` as `<id>LaunchTemplate` (construct ids are part of the contract).
 */
export function createNodeGroup(scope: Construct, ctx: PlatformNodeGroupContext, id: string, options: EksNodeGroupOptions): eks.Nodegroup {
  validateNodeGroup(scope, id, options);
  const spot = options.capacityType === eks.CapacityType.SPOT;
  const instanceTypes = options.instanceTypes ?? (spot ? SPOT_TYPES : ON_DEMAND_TYPES).map((t) => new ec2.InstanceType(t));
  if (spot && instanceTypes.length < 2) {
    Annotations.of(scope).addWarningV2('cdk-container-patterns:eks-spot-single-type',
      `Node group ${id} uses Spot with a single instance type; list several types of the same size so one interruption wave cannot empty it.`);
  }
  const minSize = options.minSize ?? 1;
  const maxSize = options.maxSize ?? Math.max(3, minSize);

  const launchTemplate = new ec2.LaunchTemplate(scope, `${id}LaunchTemplate`, {
    requireImdsv2: true,
    httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
    httpPutResponseHopLimit: 1,
    detailedMonitoring: options.detailedMonitoring ?? true,
    blockDevices: [{
      deviceName: '/dev/xvda',
      volume: ec2.BlockDeviceVolume.ebs(options.diskSizeGiB ?? 50, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
    }],
  });

  const nodeGroup = ctx.cluster.addNodegroupCapacity(id, {
    capacityType: options.capacityType ?? eks.CapacityType.ON_DEMAND,
    instanceTypes,
    amiType: amiTypeFor(instanceTypes),
    minSize,
    maxSize,
    desiredSize: options.desiredSize ?? minSize,
    labels: options.labels,
    taints: options.taints,
    nodeRole: ctx.nodeRole,
    subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
  });
  nodeGroup.node.addDependency(ctx.vpcCni);
  return nodeGroup;
}

/** With a launch template EKS cannot infer the AMI, so pick AL2023 for the instances' architecture. */
function amiTypeFor(types: ec2.InstanceType[]): eks.NodegroupAmiType {
  const archs = new Set(types.map((t) => t.architecture));
  return archs.has(ec2.InstanceArchitecture.ARM_64) ? eks.NodegroupAmiType.AL2023_ARM_64_STANDARD : eks.NodegroupAmiType.AL2023_X86_64_STANDARD;
}
