import { Stack, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { invalidProp, requireIntegerInRange } from '../private/validation';
import { nagEc2Arn } from './private/acknowledgements';
import { EksAddonVersion } from './versions';

/** Typed settings of the Amazon VPC CNI, turned into the add-on's configuration values. */
export interface VpcCniSettings {
  /**
   * Assign /28 IPv4 prefixes to ENIs instead of single addresses, so a node can run many more
   * pods (needs Nitro instances).
   *
   * @default false
   */
  readonly prefixDelegation?: boolean;

  /**
   * Free IP addresses each node keeps warm (`WARM_IP_TARGET`).
   *
   * @default - the CNI's own default (one warm ENI)
   */
  readonly warmIpTarget?: number;

  /**
   * IP addresses each node allocates at start (`MINIMUM_IP_TARGET`).
   *
   * @default - the CNI's own default
   */
  readonly minimumIpTarget?: number;

  /**
   * Free /28 prefixes each node keeps warm (`WARM_PREFIX_TARGET`); only with `prefixDelegation`.
   *
   * @default - the CNI's own default (1 when prefix delegation is on)
   */
  readonly warmPrefixTarget?: number;

  /**
   * Run the VPC CNI's network policy agent, which enforces Kubernetes NetworkPolicy with eBPF.
   * Leave it off when Calico enforces policy.
   *
   * @default false
   */
  readonly networkPolicyAgent?: boolean;
}

/** Props of {@link VpcCni}. */
export interface VpcCniProps {
  /** The cluster the add-on is installed on. */
  readonly cluster: eks.ICluster;

  /**
   * CNI settings.
   *
   * @default - the CNI's defaults: no prefix delegation, no network policy agent
   */
  readonly settings?: VpcCniSettings;

  /**
   * The add-on version.
   *
   * @default EksAddonVersion.VPC_CNI
   */
  readonly version?: EksAddonVersion;
}

/** The service account the VPC CNI's `aws-node` DaemonSet runs as. */
const CNI_SERVICE_ACCOUNT = 'aws-node';

/**
 * The managed `vpc-cni` add-on with its own IAM role, handed to the `aws-node` service account
 * through an EKS Pod Identity association, so nodes' instance roles need no ENI permissions.
 */
export class VpcCni extends Construct {
  /** The role the `aws-node` pods assume. */
  public readonly role: iam.Role;

  /** The add-on resource. */
  public readonly addon: eks.CfnAddon;

  /** The JSON document given to the add-on as `configurationValues` (empty object when no setting is made). */
  public readonly configurationValues: string;

  constructor(scope: Construct, id: string, props: VpcCniProps) {
    super(scope, id);
    const settings = props.settings ?? {};
    validateSettings(this, settings);
    const version = props.version ?? EksAddonVersion.VPC_CNI;
    if (version.addonName !== 'vpc-cni') {
      invalidProp(this, 'version', version.addonName, 'is not a version of the vpc-cni add-on', "Use EksAddonVersion.VPC_CNI or EksAddonVersion.of('vpc-cni', ...).");
    }
    this.configurationValues = renderConfigurationValues(settings);

    this.role = new iam.Role(this, 'Role', {
      description: 'Amazon VPC CNI (aws-node): manages pod ENIs and IP addresses',
      assumedBy: new iam.ServicePrincipal('pods.eks.amazonaws.com').withSessionTags(),
    });
    const policy = new iam.Policy(this, 'Policy', { statements: cniStatements(this) });
    this.role.attachInlinePolicy(policy);
    acknowledgeWildcards(policy);

    this.addon = new eks.CfnAddon(this, 'Resource', {
      addonName: version.addonName,
      addonVersion: version.version,
      clusterName: props.cluster.clusterName,
      // EKS installs a self-managed aws-node at cluster creation; the managed add-on takes it over.
      resolveConflicts: 'OVERWRITE',
      configurationValues: this.configurationValues,
      podIdentityAssociations: [{ serviceAccount: CNI_SERVICE_ACCOUNT, roleArn: this.role.roleArn }],
    });
    // aws-node must have its permissions the moment it starts.
    this.addon.node.addDependency(policy);
    if (props.cluster.eksPodIdentityAgent) {
      this.addon.node.addDependency(props.cluster.eksPodIdentityAgent);
    }
  }
}

const ENI_RESOURCE_TYPES = ['network-interface', 'instance', 'subnet', 'security-group'];

function acknowledgeWildcards(policy: iam.Policy): void {
  Validations.of(policy).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'Only the EC2 Describe* calls use "*": they do not support resource-level permissions. Every mutating call is scoped to this account and region.',
  });
  for (const type of ENI_RESOURCE_TYPES) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${nagEc2Arn(policy, type)}]`,
      reason: `The CNI attaches ENIs and addresses to instances and subnets it learns at run time; ${type} ARNs are limited to this account and region.`,
    });
  }
}

function validateSettings(scope: Construct, s: VpcCniSettings): void {
  requireIntegerInRange(scope, 'settings.warmIpTarget', s.warmIpTarget, 0, 250);
  requireIntegerInRange(scope, 'settings.minimumIpTarget', s.minimumIpTarget, 0, 250);
  requireIntegerInRange(scope, 'settings.warmPrefixTarget', s.warmPrefixTarget, 0, 50);
  if (s.warmPrefixTarget !== undefined && !s.prefixDelegation) {
    invalidProp(scope, 'settings.warmPrefixTarget', s.warmPrefixTarget, 'only applies when prefix delegation is on',
      'Set settings.prefixDelegation to true, or remove settings.warmPrefixTarget.');
  }
}

/** Builds the add-on's configuration document with keys in a fixed order (deterministic synth). */
function renderConfigurationValues(s: VpcCniSettings): string {
  const env: Record<string, string> = {};
  if (s.prefixDelegation !== undefined) env.ENABLE_PREFIX_DELEGATION = String(s.prefixDelegation);
  if (s.minimumIpTarget !== undefined) env.MINIMUM_IP_TARGET = String(s.minimumIpTarget);
  if (s.warmIpTarget !== undefined) env.WARM_IP_TARGET = String(s.warmIpTarget);
  if (s.warmPrefixTarget !== undefined) env.WARM_PREFIX_TARGET = String(s.warmPrefixTarget);
  const doc: Record<string, unknown> = {};
  if (s.networkPolicyAgent !== undefined) doc.enableNetworkPolicy = String(s.networkPolicyAgent);
  const sortedEnv = Object.fromEntries(Object.keys(env).sort().map((k) => [k, env[k]]));
  if (Object.keys(sortedEnv).length > 0) doc.env = sortedEnv;
  return JSON.stringify(doc);
}

/**
 * The AmazonEKS_CNI_Policy actions for IPv4, with every action that supports resource-level
 * permissions limited to this account and region instead of `*`.
 */
function cniStatements(scope: Construct): iam.PolicyStatement[] {
  const stack = Stack.of(scope);
  const arn = (type: string) => `arn:${stack.partition}:ec2:${stack.region}:${stack.account}:${type}/*`;
  return [
    new iam.PolicyStatement({
      sid: 'DescribeNetworking',
      // Describe calls do not support resource-level permissions.
      actions: ['ec2:DescribeInstances', 'ec2:DescribeInstanceTypes', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DescribeTags'],
      resources: ['*'],
    }),
    new iam.PolicyStatement({
      sid: 'ManagePodEnis',
      actions: [
        'ec2:AssignPrivateIpAddresses', 'ec2:AttachNetworkInterface', 'ec2:CreateNetworkInterface', 'ec2:DeleteNetworkInterface',
        'ec2:DetachNetworkInterface', 'ec2:ModifyNetworkInterfaceAttribute', 'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ENI_RESOURCE_TYPES.map(arn),
    }),
    new iam.PolicyStatement({
      sid: 'TagPodEnis',
      actions: ['ec2:CreateTags'],
      resources: [arn('network-interface')],
    }),
  ];
}
