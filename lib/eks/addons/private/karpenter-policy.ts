import { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

/** What the controller policy is scoped to. */
export interface KarpenterPolicyScope {
  readonly clusterName: string;
  readonly clusterArn: string;
  readonly nodeRoleArn: string;
  readonly interruptionQueueArn: string;
}

/**
 * The Karpenter controller's permissions, statement for statement those of the upstream
 * getting-started CloudFormation template for the pinned minor version
 * (aws/karpenter-provider-aws, website/content/en/v1.14/getting-started/getting-started-with-karpenter/cloudformation.yaml).
 *
 * One deliberate difference: upstream scopes by the tag KEY `kubernetes.io/cluster/<name>`. With
 * the cluster name a token, a condition key holding it would need a CfnJson custom resource (one
 * more Lambda per stack). Karpenter also writes `eks:eks-cluster-name=<name>` on every instance,
 * volume, network interface, launch template, fleet and instance profile it creates (pkg/utils
 * GetTags and EC2NodeClass.InstanceProfileTags), so the same resources are selected by its VALUE.
 */
export function karpenterControllerStatements(scope: Construct, s: KarpenterPolicyScope): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const p = stack.partition;
  const r = stack.region;
  const ec2 = (type: string, account = '*') => `arn:${p}:ec2:${r}:${account}:${type}/*`;
  const instanceProfiles = `arn:${p}:iam::${stack.account}:instance-profile/*`;
  const ownedByCluster = { 'aws:ResourceTag/eks:eks-cluster-name': s.clusterName };
  const requestedForCluster = { 'aws:RequestTag/eks:eks-cluster-name': s.clusterName };
  const createdTypes = ['fleet', 'instance', 'volume', 'network-interface', 'launch-template', 'spot-instances-request'].map((t) => ec2(t));

  return [
    new iam.PolicyStatement({
      sid: 'AllowScopedEC2InstanceAccessActions',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: [ec2('image', ''), ec2('snapshot', ''), ec2('security-group'), ec2('subnet'), ec2('capacity-reservation'), ec2('placement-group')],
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedEC2LaunchTemplateAccessActions',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet'],
      resources: [ec2('launch-template')],
      conditions: { StringEquals: ownedByCluster, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedEC2InstanceActionsWithTags',
      actions: ['ec2:RunInstances', 'ec2:CreateFleet', 'ec2:CreateLaunchTemplate'],
      resources: createdTypes,
      conditions: { StringEquals: requestedForCluster, StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' } },
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedResourceCreationTagging',
      actions: ['ec2:CreateTags'],
      resources: createdTypes,
      conditions: {
        StringEquals: { ...requestedForCluster, 'ec2:CreateAction': ['RunInstances', 'CreateFleet', 'CreateLaunchTemplate'] },
        StringLike: { 'aws:RequestTag/karpenter.sh/nodepool': '*' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedResourceTagging',
      actions: ['ec2:CreateTags'],
      resources: [ec2('instance')],
      conditions: {
        'StringEquals': ownedByCluster,
        'StringLike': { 'aws:ResourceTag/karpenter.sh/nodepool': '*' },
        'StringEqualsIfExists': requestedForCluster,
        'ForAllValues:StringEquals': { 'aws:TagKeys': ['eks:eks-cluster-name', 'karpenter.sh/nodeclaim', 'Name'] },
      },
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedDeletion',
      actions: ['ec2:TerminateInstances', 'ec2:DeleteLaunchTemplate'],
      resources: [ec2('instance'), ec2('launch-template')],
      conditions: { StringEquals: ownedByCluster, StringLike: { 'aws:ResourceTag/karpenter.sh/nodepool': '*' } },
    }),
    new iam.PolicyStatement({
      sid: 'AllowRegionalReadActions',
      actions: [
        'ec2:DescribeCapacityReservations', 'ec2:DescribeImages', 'ec2:DescribeInstances', 'ec2:DescribeInstanceStatus',
        'ec2:DescribeInstanceTypeOfferings', 'ec2:DescribeInstanceTypes', 'ec2:DescribeLaunchTemplates', 'ec2:DescribePlacementGroups',
        'ec2:DescribeSecurityGroups', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeSubnets',
      ],
      resources: ['*'],
      conditions: { StringEquals: { 'aws:RequestedRegion': r } },
    }),
    new iam.PolicyStatement({
      sid: 'AllowSSMReadActions',
      actions: ['ssm:GetParameter'],
      resources: [`arn:${p}:ssm:${r}::parameter/aws/service/*`],
    }),
    new iam.PolicyStatement({ sid: 'AllowPricingReadActions', actions: ['pricing:GetProducts'], resources: ['*'] }),
    new iam.PolicyStatement({
      sid: 'AllowInterruptionQueueActions',
      actions: ['sqs:DeleteMessage', 'sqs:GetQueueUrl', 'sqs:ReceiveMessage'],
      resources: [s.interruptionQueueArn],
    }),
    new iam.PolicyStatement({
      sid: 'AllowPassingInstanceRole',
      actions: ['iam:PassRole'],
      resources: [s.nodeRoleArn],
      conditions: { StringEquals: { 'iam:PassedToService': ['ec2.amazonaws.com', 'ec2.amazonaws.com.cn'] } },
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedInstanceProfileCreationActions',
      actions: ['iam:CreateInstanceProfile'],
      resources: [instanceProfiles],
      conditions: {
        StringEquals: { ...requestedForCluster, 'aws:RequestTag/topology.kubernetes.io/region': r },
        StringLike: { 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedInstanceProfileTagActions',
      actions: ['iam:TagInstanceProfile'],
      resources: [instanceProfiles],
      conditions: {
        StringEquals: {
          ...ownedByCluster, 'aws:ResourceTag/topology.kubernetes.io/region': r,
          ...requestedForCluster, 'aws:RequestTag/topology.kubernetes.io/region': r,
        },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*', 'aws:RequestTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    }),
    new iam.PolicyStatement({
      sid: 'AllowScopedInstanceProfileActions',
      actions: ['iam:AddRoleToInstanceProfile', 'iam:RemoveRoleFromInstanceProfile', 'iam:DeleteInstanceProfile'],
      resources: [instanceProfiles],
      conditions: {
        StringEquals: { ...ownedByCluster, 'aws:ResourceTag/topology.kubernetes.io/region': r },
        StringLike: { 'aws:ResourceTag/karpenter.k8s.aws/ec2nodeclass': '*' },
      },
    }),
    new iam.PolicyStatement({ sid: 'AllowUnscopedInstanceProfileListAction', actions: ['iam:ListInstanceProfiles'], resources: ['*'] }),
    new iam.PolicyStatement({ sid: 'AllowInstanceProfileReadActions', actions: ['iam:GetInstanceProfile'], resources: [instanceProfiles] }),
    new iam.PolicyStatement({ sid: 'AllowAPIServerEndpointDiscovery', actions: ['eks:DescribeCluster'], resources: [s.clusterArn] }),
  ];
}

/**
 * Why each wildcard resource remains (cdk-nag AwsSolutions-IAM5 findings, by resource pattern as
 * cdk-nag prints it). Every one is upstream's scope; the tag conditions above narrow them further.
 */
export const KARPENTER_WILDCARD_REASONS: ReadonlyArray<[RegExp, string]> = [
  [/^Resource::\*$/, 'EC2 Describe*, pricing:GetProducts and iam:ListInstanceProfiles have no resource-level permissions; the EC2 reads are limited to this region by aws:RequestedRegion.'],
  [/:ec2:<AWS::Region>::(image|snapshot)\/\*$/, 'Karpenter picks AMIs (and their snapshots) at run time from the EC2NodeClass amiSelectorTerms; AMIs are owned by other accounts, so neither the id nor the owner is known at synth time.'],
  [/:ec2:<AWS::Region>:\*:(security-group|subnet|capacity-reservation|placement-group)\/\*$/, 'Launch inputs selected at run time by the EC2NodeClass (subnets and security groups may be shared from another account through RAM); RunInstances/CreateFleet on them only launch what the tag-conditioned statements allow.'],
  [/:ec2:<AWS::Region>:\*:(fleet|instance|volume|network-interface|launch-template|spot-instances-request)\/\*$/, 'Instances, fleets and launch templates Karpenter creates at run time; every statement on them requires the eks:eks-cluster-name tag of this cluster (request or resource tag) and a karpenter.sh/nodepool tag.'],
  [/:iam::<AWS::AccountId>:instance-profile\/\*$/, 'Karpenter creates one instance profile per EC2NodeClass with a generated name; create, tag and change require this cluster\'s eks:eks-cluster-name tag and this region.'],
  [/:ssm:<AWS::Region>::parameter\/aws\/service\/\*$/, 'Public SSM parameters where AWS publishes the EKS-optimized AMI ids Karpenter resolves for amiSelectorTerms aliases (read-only).'],
];
