import { Duration, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { acknowledgeWildcards } from '../../private/nag';
import { invalidProp, requireDurationInRange, requireIntegerInRange } from '../../private/validation';
import { EksHelmChartVersion } from '../versions';
import { KARPENTER_WILDCARD_REASONS, karpenterControllerStatements } from './private/karpenter-policy';
import { deepMerge } from './private/merge';
import { podIdentity } from './private/pod-identity';
import { acknowledgeControl } from '../../private/guard';

/** Which purchase options the default NodePool may launch. */
const INTERRUPTION_QUEUE_WITHOUT_DLQ = 'Karpenter deletes each interruption notice once handled; a notice it cannot handle is stale within minutes (the Spot warning is two minutes), so a dead-letter queue would only keep useless messages.';

export enum KarpenterCapacityType {
  /** Spot and On-Demand: Karpenter prefers Spot and falls back to On-Demand when Spot has no capacity. */
  SPOT_AND_ON_DEMAND = 'SPOT_AND_ON_DEMAND',
  /** On-Demand only. */
  ON_DEMAND = 'ON_DEMAND',
  /** Spot only. */
  SPOT = 'SPOT',
}

/** The NodePool and EC2NodeClass named `default` that {@link Karpenter} creates. */
export interface KarpenterDefaultNodePoolOptions {
  /**
   * Purchase options.
   *
   * @default KarpenterCapacityType.SPOT_AND_ON_DEMAND
   */
  readonly capacityType?: KarpenterCapacityType;

  /**
   * Instance categories (`c`, `m`, `r`, ...), the `karpenter.k8s.aws/instance-category` label.
   *
   * @default ['c', 'm', 'r']
   */
  readonly instanceCategories?: string[];

  /**
   * Only instance generations newer than this (`karpenter.k8s.aws/instance-generation` Gt).
   *
   * @default 5
   */
  readonly minInstanceGenerationExclusive?: number;

  /**
   * Most vCPUs all nodes of the pool may have together: Karpenter launches nothing beyond it.
   *
   * @default 100
   */
  readonly cpuLimit?: number;

  /**
   * Most memory all nodes of the pool may have together, in GiB.
   *
   * @default 400
   */
  readonly memoryLimitGiB?: number;

  /**
   * How long a node may be empty or underused before consolidation replaces or removes it.
   *
   * @default Duration.minutes(1)
   */
  readonly consolidateAfter?: Duration;

  /**
   * Most nodes (percent of the pool) consolidation and drift may disrupt at once.
   *
   * @default 10
   */
  readonly disruptionBudgetPercent?: number;

  /**
   * Nodes are replaced after this long, so they pick up new AMIs and do not run forever.
   *
   * @default Duration.days(30)
   */
  readonly expireAfter?: Duration;

  /**
   * Longest a node may take to drain once Karpenter deletes it; pods still running then are
   * deleted even if a PodDisruptionBudget blocks them. It also bounds a stack delete: the NodePool
   * manifest is deleted first and waits for its nodes, within the kubectl handler's 15 minutes.
   *
   * @default Duration.minutes(10)
   */
  readonly terminationGracePeriod?: Duration;

  /**
   * AMI alias of the EC2NodeClass (`family@version`). Pin a version (e.g. `al2023@v20261101`) in
   * production so a new AMI only rolls out when you change it.
   *
   * @default 'al2023@latest'
   */
  readonly amiAlias?: string;

  /**
   * Root volume size in GiB (gp3, encrypted).
   *
   * @default 50
   */
  readonly diskSizeGiB?: number;
}

/** How Karpenter runs: what `EksPlatformProps.karpenter` takes. */
export interface KarpenterOptions {
  /**
   * The default NodePool and EC2NodeClass.
   *
   * @default - Spot and On-Demand c/m/r instances newer than generation 5, at most 100 vCPUs and
   * 400 GiB, consolidation after 1 minute, 10% disruption budget
   */
  readonly defaultNodePool?: KarpenterDefaultNodePoolOptions;

  /**
   * Controller replicas (they elect a leader; two survive a node loss).
   *
   * @default 2
   */
  readonly replicas?: number;

  /**
   * The controller chart. Its CRDs come from the `karpenter-crd` chart of the same version.
   *
   * @default EksHelmChartVersion.KARPENTER
   */
  readonly chart?: EksHelmChartVersion;

  /**
   * Extra chart values, deep-merged over the computed ones; yours win.
   *
   * @default - none
   */
  readonly values?: { [key: string]: unknown };
}

/** Props of {@link Karpenter}. */
export interface KarpenterProps extends KarpenterOptions {
  /** The cluster whose nodes Karpenter provisions. */
  readonly cluster: eks.ICluster;

  /**
   * Subnets new nodes go in.
   *
   * @default - the cluster VPC's private subnets
   */
  readonly subnets?: ec2.SubnetSelection;

  /**
   * Also attach AmazonEKS_CNI_Policy to the node role. Only needed when the cluster's VPC CNI takes
   * its permissions from the node role; `EksPlatform` gives the CNI its own Pod Identity role.
   *
   * @default false
   */
  readonly nodeRoleCniPolicy?: boolean;
}

const NAMESPACE = 'kube-system';
const SERVICE_ACCOUNT = 'karpenter';
const ALIAS = /^(al2023|al2|bottlerocket|windows2019|windows2022|windows2025)@(latest|v\d+(\.\d+)*)$/;

/**
 * Karpenter node autoscaling: the pinned controller chart (and its CRD chart), a Pod Identity role
 * scoped like upstream's, the node role with an EC2_LINUX access entry, the SQS interruption queue
 * fed by one EventBridge rule (Spot interruption, rebalance, instance state change, scheduled
 * health events, capacity reservation interruption), and a default NodePool/EC2NodeClass.
 *
 * The controller itself must run on nodes Karpenter does not manage (the chart's affinity refuses
 * `karpenter.sh/nodepool` nodes): keep a small managed node group for it and the other add-ons.
 */
export class Karpenter extends Construct {
  /** The controller's role (Pod Identity). */
  public readonly controllerRole: iam.IRole;
  /** The role of nodes Karpenter launches. */
  public readonly nodeRole: iam.IRole;
  /** The interruption queue. */
  public readonly interruptionQueue: sqs.IQueue;
  /** The controller chart. */
  public readonly chart: eks.HelmChart;
  /** The default NodePool and EC2NodeClass. */
  public readonly defaultNodePool: eks.KubernetesManifest;

  constructor(scope: Construct, id: string, props: KarpenterProps) {
    super(scope, id);
    const version = props.chart ?? EksHelmChartVersion.KARPENTER;
    if (version.chart !== 'karpenter') {
      invalidProp(this, 'chart', version.chart, 'is not the karpenter chart', "Use EksHelmChartVersion.KARPENTER or EksHelmChartVersion.of('karpenter', ...).");
    }
    const replicas = props.replicas ?? 2;
    requireIntegerInRange(this, 'replicas', replicas, 1, 10);
    const pool = validatePool(this, props.defaultNodePool ?? {});
    const cluster = props.cluster;

    const queue = new sqs.Queue(this, 'InterruptionQueue', {
      // Interruption notices are worth nothing after the two-minute Spot warning: no longer retention, no DLQ.
      retentionPeriod: Duration.minutes(5),
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    Validations.of(queue).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: INTERRUPTION_QUEUE_WITHOUT_DLQ,
    });
    acknowledgeControl(queue, 'sqs_dlq_check', INTERRUPTION_QUEUE_WITHOUT_DLQ);
    this.interruptionQueue = queue;
    new events.Rule(this, 'InterruptionRule', {
      description: 'EC2 and AWS Health events Karpenter drains nodes ahead of',
      eventPattern: {
        source: ['aws.ec2', 'aws.health'],
        detailType: [
          'EC2 Spot Instance Interruption Warning',
          'EC2 Instance Rebalance Recommendation',
          'EC2 Instance State-change Notification',
          'EC2 Capacity Reservation Instance Interruption Warning',
          'AWS Health Event',
        ],
      },
      targets: [new targets.SqsQueue(queue)],
    });

    const nodeRole = new iam.Role(this, 'NodeRole', {
      description: 'Nodes launched by Karpenter',
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSWorkerNodePolicy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryPullOnly'),
        ...(props.nodeRoleCniPolicy ? [iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKS_CNI_Policy')] : []),
      ],
    });
    for (const [name, reason] of [
      ['AmazonEKSWorkerNodePolicy', 'EKS requires this AWS-maintained policy on node roles so the kubelet can join the cluster.'],
      ['AmazonEC2ContainerRegistryPullOnly', 'Lets the kubelet pull images from ECR (pull only, no listing); AWS keeps it in step with ECR features.'],
      ['AmazonEKS_CNI_Policy', 'Asked for with nodeRoleCniPolicy: the cluster\'s VPC CNI takes its permissions from the node role.'],
    ]) {
      Validations.of(nodeRole).acknowledge({ id: `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${name}]`, reason });
    }
    this.nodeRole = nodeRole;
    const nodeAccess = new eks.AccessEntry(this, 'NodeAccessEntry', {
      cluster,
      principal: nodeRole.roleArn,
      accessEntryType: eks.AccessEntryType.EC2_LINUX,
      accessPolicies: [],
    });

    const identity = podIdentity(this, cluster, NAMESPACE, SERVICE_ACCOUNT, 'Karpenter controller: launches and terminates this cluster\'s nodes');
    this.controllerRole = identity.role;
    const policy = new iam.Policy(this, 'ControllerPolicy', {
      statements: karpenterControllerStatements(this, {
        clusterName: cluster.clusterName,
        clusterArn: cluster.clusterArn,
        nodeRoleArn: nodeRole.roleArn,
        interruptionQueueArn: queue.queueArn,
      }),
    });
    identity.role.attachInlinePolicy(policy);
    acknowledgeWildcards(policy, KARPENTER_WILDCARD_REASONS.map(([finding, reason]) => ({ finding, reason })));

    const crds = new eks.HelmChart(this, 'Crds', {
      cluster,
      chart: 'karpenter-crd',
      repository: version.repository.replace(/\/karpenter$/, '/karpenter-crd'),
      version: version.version,
      release: 'karpenter-crd',
      namespace: NAMESPACE,
    });

    this.chart = new eks.HelmChart(this, 'Resource', {
      cluster,
      chart: version.chart,
      repository: version.repository,
      version: version.version,
      release: 'karpenter',
      namespace: NAMESPACE,
      // CRDs come from the karpenter-crd chart, which Helm upgrades (it never upgrades a chart's crds/ folder).
      skipCrds: true,
      values: deepMerge({
        replicas,
        // The chart creates a plain service account: no IRSA annotation, credentials from Pod Identity.
        serviceAccount: { create: true, name: SERVICE_ACCOUNT },
        settings: { clusterName: cluster.clusterName, interruptionQueue: queue.queueName },
        controller: { resources: { requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } } },
      }, props.values),
    });
    // The pods must find their credentials, CRDs and node access when they start; on delete the
    // controller goes before them, after the NodePool (below) so it can terminate its nodes.
    this.chart.node.addDependency(crds, identity.association, policy, nodeAccess);

    const subnetIds = cluster.vpc.selectSubnets(props.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }).subnetIds;
    this.defaultNodePool = new eks.KubernetesManifest(this, 'DefaultNodePool', {
      cluster,
      manifest: [
        ec2NodeClass(nodeRole.roleName, subnetIds, cluster.clusterSecurityGroupId, pool),
        nodePool(pool),
      ],
      overwrite: true,
    });
    // Deleted first on teardown, while the controller still runs to drain and terminate the nodes.
    this.defaultNodePool.node.addDependency(this.chart);
  }
}

interface ResolvedPool {
  readonly capacityTypes: string[];
  readonly categories: string[];
  readonly minGeneration: number;
  readonly cpu: number;
  readonly memoryGiB: number;
  readonly consolidateAfter: string;
  readonly budgetPercent: number;
  readonly expireAfter: string;
  readonly terminationGracePeriod: string;
  readonly amiAlias: string;
  readonly diskSizeGiB: number;
}

function validatePool(scope: Construct, o: KarpenterDefaultNodePoolOptions): ResolvedPool {
  const prop = (name: string) => `defaultNodePool.${name}`;
  requireIntegerInRange(scope, prop('minInstanceGenerationExclusive'), o.minInstanceGenerationExclusive, 0, 20);
  requireIntegerInRange(scope, prop('cpuLimit'), o.cpuLimit, 1, 100000);
  requireIntegerInRange(scope, prop('memoryLimitGiB'), o.memoryLimitGiB, 1, 1000000);
  requireIntegerInRange(scope, prop('disruptionBudgetPercent'), o.disruptionBudgetPercent, 0, 100);
  requireIntegerInRange(scope, prop('diskSizeGiB'), o.diskSizeGiB, 20, 16384);
  requireDurationInRange(scope, prop('terminationGracePeriod'), o.terminationGracePeriod, Duration.minutes(1), Duration.minutes(13),
    { maxReason: 'a stack delete waits for the drained nodes within the kubectl handler\'s 15 minutes' });
  const categories = o.instanceCategories ?? ['c', 'm', 'r'];
  if (categories.length === 0 || categories.some((c) => !/^[a-z]+$/.test(c))) {
    invalidProp(scope, prop('instanceCategories'), categories, 'must list instance categories as lowercase letters (e.g. "c", "m", "r")', 'Give at least one category such as "m".');
  }
  const alias = o.amiAlias ?? 'al2023@latest';
  if (!ALIAS.test(alias)) {
    invalidProp(scope, prop('amiAlias'), alias, 'is not an EC2NodeClass AMI alias (family@latest or family@vYYYYMMDD)', 'Use e.g. "al2023@latest" or a pinned "al2023@v20261101".');
  }
  return {
    capacityTypes: {
      [KarpenterCapacityType.SPOT_AND_ON_DEMAND]: ['spot', 'on-demand'],
      [KarpenterCapacityType.ON_DEMAND]: ['on-demand'],
      [KarpenterCapacityType.SPOT]: ['spot'],
    }[o.capacityType ?? KarpenterCapacityType.SPOT_AND_ON_DEMAND],
    categories,
    minGeneration: o.minInstanceGenerationExclusive ?? 5,
    cpu: o.cpuLimit ?? 100,
    memoryGiB: o.memoryLimitGiB ?? 400,
    consolidateAfter: goDuration(scope, prop('consolidateAfter'), o.consolidateAfter ?? Duration.minutes(1)),
    budgetPercent: o.disruptionBudgetPercent ?? 10,
    expireAfter: goDuration(scope, prop('expireAfter'), o.expireAfter ?? Duration.days(30)),
    terminationGracePeriod: goDuration(scope, prop('terminationGracePeriod'), o.terminationGracePeriod ?? Duration.minutes(10)),
    amiAlias: alias,
    diskSizeGiB: o.diskSizeGiB ?? 50,
  };
}

/** Karpenter takes Go durations; whole seconds only, written as hours/minutes/seconds. */
function goDuration(scope: Construct, prop: string, d: Duration): string {
  const seconds = d.toSeconds({ integral: false });
  if (!Number.isInteger(seconds) || seconds < 0) {
    invalidProp(scope, prop, d.toHumanString(), 'must be a whole number of seconds', `Set ${prop} in whole seconds, minutes, hours or days.`);
  }
  if (seconds % 3600 === 0) return `${seconds / 3600}h`;
  if (seconds % 60 === 0) return `${seconds / 60}m`;
  return `${seconds}s`;
}

function ec2NodeClass(roleName: string, subnetIds: string[], securityGroupId: string, pool: ResolvedPool): Record<string, unknown> {
  return {
    apiVersion: 'karpenter.k8s.aws/v1',
    kind: 'EC2NodeClass',
    metadata: { name: 'default' },
    spec: {
      role: roleName,
      amiSelectorTerms: [{ alias: pool.amiAlias }],
      subnetSelectorTerms: subnetIds.map((id) => ({ id })),
      securityGroupSelectorTerms: [{ id: securityGroupId }],
      // IMDSv2 only, and out of reach of pods (hop limit 1): pods get credentials from Pod Identity.
      metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
      blockDeviceMappings: [{
        deviceName: '/dev/xvda',
        ebs: { volumeSize: `${pool.diskSizeGiB}Gi`, volumeType: 'gp3', encrypted: true, deleteOnTermination: true },
      }],
    },
  };
}

function nodePool(pool: ResolvedPool): Record<string, unknown> {
  return {
    apiVersion: 'karpenter.sh/v1',
    kind: 'NodePool',
    metadata: { name: 'default' },
    spec: {
      template: {
        spec: {
          nodeClassRef: { group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' },
          requirements: [
            { key: 'karpenter.sh/capacity-type', operator: 'In', values: pool.capacityTypes },
            { key: 'kubernetes.io/arch', operator: 'In', values: ['amd64'] },
            { key: 'kubernetes.io/os', operator: 'In', values: ['linux'] },
            { key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: pool.categories },
            { key: 'karpenter.k8s.aws/instance-generation', operator: 'Gt', values: [String(pool.minGeneration)] },
          ],
          expireAfter: pool.expireAfter,
          terminationGracePeriod: pool.terminationGracePeriod,
        },
      },
      limits: { cpu: String(pool.cpu), memory: `${pool.memoryGiB}Gi` },
      disruption: {
        consolidationPolicy: 'WhenEmptyOrUnderutilized',
        consolidateAfter: pool.consolidateAfter,
        budgets: [{ nodes: `${pool.budgetPercent}%` }],
      },
    },
  };
}
