import { KubectlV36Layer } from '@aws-cdk/lambda-layer-kubectl-v36';
import { Annotations, Stack, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { ContainerLogging } from './addons/container-logging';
import { ExternalDns, ExternalDnsPolicy } from './addons/external-dns';
import { Karpenter, KarpenterOptions } from './addons/karpenter';
import { Keda, KedaOptions } from './addons/keda';
import { IngressOptions, LoadBalancerController } from './addons/load-balancer-controller';
import { AllowTrafficOptions, NetworkPolicies, NetworkPolicyEngine, TrafficProtocol } from './addons/network-policy';
import { duplicatesOf, invalidProp, requireIntegerInRange } from '../private/validation';
import { EksAccess, EksAccessOptions } from './access';
import { acknowledgeClusterInternals } from './private/acknowledgements';
import { ignoreRedundantDependsOn } from '../private/cfn-lint';
import { ensureNamespace } from './private/namespaces';
import { requireNamespaceName } from './private/names';
import { NewRelicPodScaling, NewRelicPodScalingOptions } from './new-relic-pod-scaling';
import { EksAddonVersion, EksKubernetesVersion } from './versions';
import { VpcCni, VpcCniSettings } from './vpc-cni';

/** Who can reach the cluster's Kubernetes API endpoint. */
export enum EksEndpointAccess {
  /** Only from inside the VPC (and networks connected to it). */
  PRIVATE = 'PRIVATE',
  /** From inside the VPC, and from the internet CIDRs listed in `publicEndpointCidrs` only. */
  PUBLIC_AND_PRIVATE = 'PUBLIC_AND_PRIVATE',
}

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

/** The AWS Load Balancer Controller as {@link EksPlatform} runs it. */
export interface EksLoadBalancerControllerOptions {
  /**
   * Name of the IngressClass.
   *
   * @default 'alb'
   */
  readonly ingressClassName?: string;

  /**
   * Extra chart values, deep-merged over the computed ones; yours win.
   *
   * @default - none
   */
  readonly values?: { [key: string]: unknown };
}

/** ExternalDNS as {@link EksPlatform} runs it: Route 53 zones or a Cloud Map namespace. */
export interface EksExternalDnsOptions {
  /**
   * Route 53 hosted zones ExternalDNS may change. Give either this or `cloudMapNamespace`.
   *
   * @default - none
   */
  readonly hostedZones?: route53.IHostedZone[];

  /**
   * A Cloud Map namespace shared with ECS services (`aws-sd` provider). Give either this or
   * `hostedZones`.
   *
   * @default - none
   */
  readonly cloudMapNamespace?: servicediscovery.INamespace;

  /**
   * What ExternalDNS may do to the records it owns.
   *
   * @default ExternalDnsPolicy.UPSERT_ONLY
   */
  readonly policy?: ExternalDnsPolicy;
}

/** Container log shipping (Fluent Bit to CloudWatch Logs) for the platform's namespaces. */
export interface EksContainerLoggingOptions {
  /**
   * How long container logs are kept.
   *
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly retention?: logs.RetentionDays;

  /**
   * The KMS key that encrypts the log groups.
   *
   * @default - a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;
}

/** Traffic to let in from anywhere in the VPC, e.g. from an ALB with target type ip. */
export interface EksAllowFromVpcOptions {
  /** Namespace of the called pods; one of the platform's `namespaces`. */
  readonly toNamespace: string;

  /**
   * Service whose pods are called (pods labelled `app.kubernetes.io/name=<toService>`).
   *
   * @default - every pod in `toNamespace`
   */
  readonly toService?: string;

  /** Container ports the pods listen on. */
  readonly ports: number[];

  /**
   * Protocol of `ports`.
   *
   * @default TrafficProtocol.TCP
   */
  readonly protocol?: TrafficProtocol;
}

/** Props of {@link EksPlatform}. */
export interface EksPlatformProps {
  /**
   * The VPC. Nodes go in its private subnets; the cluster tags public subnets
   * `kubernetes.io/role/elb` and private ones `kubernetes.io/role/internal-elb` when it can (an
   * imported VPC's subnets must be tagged by whoever owns them).
   *
   * @default - a new VPC over `maxAzs` AZs with public and private subnets, one NAT gateway per
   * AZ and flow logs to CloudWatch Logs
   */
  readonly vpc?: ec2.IVpc;

  /**
   * Number of AZs of the new VPC; ignored when `vpc` is given.
   *
   * @default 3
   */
  readonly maxAzs?: number;

  /**
   * The cluster name.
   *
   * @default - generated by CloudFormation
   */
  readonly clusterName?: string;

  /**
   * The Kubernetes version.
   *
   * @default EksKubernetesVersion.DEFAULT
   */
  readonly version?: EksKubernetesVersion;

  /**
   * Who can reach the API endpoint.
   *
   * @default EksEndpointAccess.PRIVATE
   */
  readonly endpointAccess?: EksEndpointAccess;

  /**
   * Internet CIDRs allowed to reach the public endpoint. Required with
   * `EksEndpointAccess.PUBLIC_AND_PRIVATE`; `0.0.0.0/0` is refused.
   *
   * @default - none (the endpoint is private)
   */
  readonly publicEndpointCidrs?: string[];

  /**
   * An IAM role given cluster admin through an EKS access policy (not RBAC), so it keeps access
   * whatever happens to in-cluster RBAC objects.
   *
   * @default - only the identity that deploys the stack (see `bootstrapClusterCreatorAdmin`)
   */
  readonly adminRole?: iam.IRole;

  /**
   * Whether the identity that creates the cluster (the CloudFormation role) is made cluster admin.
   * It can only be turned off when `adminRole` is given, so the cluster always has an admin.
   *
   * @default true
   */
  readonly bootstrapClusterCreatorAdmin?: boolean;

  /**
   * The KMS key that encrypts Kubernetes Secrets (envelope encryption).
   *
   * @default - a new key with rotation on
   */
  readonly secretsEncryptionKey?: kms.IKey;

  /**
   * The node group created with the cluster (on-demand unless set otherwise), for system pods
   * and everything else until you add more with `addNodeGroup()`.
   *
   * @default - 2 to 3 on-demand m6i.large nodes
   */
  readonly systemNodeGroup?: EksNodeGroupOptions;

  /**
   * VPC CNI settings. `networkPolicyAgent` follows `networkPolicyEngine` and need not be set.
   *
   * @default - the CNI's defaults
   */
  readonly vpcCni?: VpcCniSettings;

  /**
   * Application namespaces. Each is created, gets a default-deny NetworkPolicy (DNS excepted),
   * and, with `containerLogging`, its own log group. Open paths with `allowTraffic()` and
   * `allowFromVpc()`.
   *
   * @default - none
   */
  readonly namespaces?: string[];

  /**
   * What enforces NetworkPolicy: the VPC CNI's own agent, or Calico (Tigera operator) in
   * policy-only mode.
   *
   * @default NetworkPolicyEngine.VPC_CNI
   */
  readonly networkPolicyEngine?: NetworkPolicyEngine;

  /**
   * Install the AWS Load Balancer Controller with these options. `addIngress()` installs it with
   * defaults when this is not given.
   *
   * @default - installed on the first `addIngress()`
   */
  readonly loadBalancerController?: EksLoadBalancerControllerOptions;

  /**
   * Run ExternalDNS, publishing Services and Ingresses to Route 53 or Cloud Map.
   *
   * @default - no ExternalDNS
   */
  readonly externalDns?: EksExternalDnsOptions;

  /**
   * Ship the container logs of `namespaces` to CloudWatch Logs with Fluent Bit.
   *
   * @default - no container log shipping (control-plane logs are always on)
   */
  readonly containerLogging?: EksContainerLoggingOptions;

  /**
   * Run Karpenter: nodes are launched for pending pods and consolidated away when idle, from a
   * default Spot + On-Demand NodePool. The system node group stays for Karpenter itself.
   *
   * @default - no Karpenter: node groups keep their fixed size range
   */
  readonly karpenter?: KarpenterOptions;

  /**
   * Install KEDA with these options. `addNewRelicPodScaling()` installs it with defaults when this
   * is not given.
   *
   * @default - installed on the first `addNewRelicPodScaling()`
   */
  readonly keda?: KedaOptions;
}

const ALL_LOG_TYPES = [
  eks.ClusterLoggingTypes.API,
  eks.ClusterLoggingTypes.AUDIT,
  eks.ClusterLoggingTypes.AUTHENTICATOR,
  eks.ClusterLoggingTypes.CONTROLLER_MANAGER,
  eks.ClusterLoggingTypes.SCHEDULER,
];

const ON_DEMAND_TYPES = ['m6i.large'];
const SPOT_TYPES = ['m6i.large', 'm6a.large', 'm5.large', 'm5a.large'];

/** Oldest and newest minor versions this library can drive (EKS support window and kubectl skew). */
const MIN_MINOR = 30;
const MAX_MINOR = 37;

/**
 * An EKS cluster a team can adopt in one construct: VPC, managed node groups behind
 * IMDSv2-only launch templates, all control-plane logs, KMS-encrypted Secrets, a private API
 * endpoint, the managed VPC CNI with its own role, and IAM → RBAC access through access entries.
 */
export class EksPlatform extends Construct {
  /** The EKS cluster. */
  public readonly cluster: eks.Cluster;

  /** The VPC the cluster runs in. */
  public readonly vpc: ec2.IVpc;

  /** The key encrypting Kubernetes Secrets. */
  public readonly secretsEncryptionKey: kms.IKey;

  /** The role every managed node group's instances use. */
  public readonly nodeRole: iam.Role;

  /** The managed VPC CNI add-on. */
  public readonly vpcCni: VpcCni;

  /** The node group created with the cluster. */
  public readonly systemNodeGroup: eks.Nodegroup;

  /** Default-deny and allow rules of the application namespaces. */
  public readonly networkPolicies: NetworkPolicies;

  /** ExternalDNS, when `externalDns` is given. */
  public readonly externalDns?: ExternalDns;

  /** Container log shipping, when `containerLogging` is given. */
  public readonly containerLogging?: ContainerLogging;

  /** Karpenter, when `karpenter` is given. */
  public readonly karpenter?: Karpenter;

  private _keda?: Keda;
  private readonly kedaOptions?: KedaOptions;

  private _loadBalancerController?: LoadBalancerController;
  private readonly loadBalancerControllerOptions?: EksLoadBalancerControllerOptions;

  private readonly accessPrincipals = new Map<iam.IRole, string>();
  private readonly adminRole?: iam.IRole;

  constructor(scope: Construct, id: string, props: EksPlatformProps = {}) {
    super(scope, id);
    const version = props.version ?? EksKubernetesVersion.DEFAULT;
    validateVersion(this, version);
    const endpointAccess = resolveEndpointAccess(this, props.endpointAccess ?? EksEndpointAccess.PRIVATE, props.publicEndpointCidrs);
    if (props.bootstrapClusterCreatorAdmin === false && !props.adminRole) {
      invalidProp(this, 'bootstrapClusterCreatorAdmin', false, 'would leave the cluster without any admin: no adminRole is given',
        'Pass adminRole (an IAM role your operators can assume), or leave bootstrapClusterCreatorAdmin on.');
    }
    requireIntegerInRange(this, 'maxAzs', props.maxAzs, 2, 6);
    const systemNodeGroup = props.systemNodeGroup ?? { minSize: 2, maxSize: 3 };
    validateNodeGroup(this, 'systemNodeGroup', systemNodeGroup);
    const engine = props.networkPolicyEngine ?? NetworkPolicyEngine.VPC_CNI;
    const vpcCniSettings = vpcCniFor(this, engine, props.vpcCni);
    const namespaces = props.namespaces ?? [];
    namespaces.forEach((ns, i) => {
      requireNamespaceName(this, `namespaces[${i}]`, ns);
      if (ns.startsWith('kube-') || ns === 'default') {
        invalidProp(this, `namespaces[${i}]`, ns, 'is a namespace Kubernetes creates itself; the platform would take it over and default-deny it',
          'List only application namespaces, e.g. "shop".');
      }
    });
    const dupNamespaces = duplicatesOf(namespaces);
    if (dupNamespaces.length > 0) invalidProp(this, 'namespaces', dupNamespaces, 'are listed more than once', 'List each namespace once.');
    if (props.externalDns && !props.externalDns.hostedZones?.length === !props.externalDns.cloudMapNamespace) {
      invalidProp(this, 'externalDns', props.externalDns.cloudMapNamespace ? 'hostedZones and cloudMapNamespace' : 'neither hostedZones nor cloudMapNamespace',
        'must name exactly one place to publish DNS records', 'Give hostedZones (Route 53) or cloudMapNamespace (Cloud Map), not both.');
    }
    if (props.containerLogging && namespaces.length === 0) {
      invalidProp(this, 'namespaces', namespaces, 'is empty, so containerLogging would ship nothing',
        'List the application namespaces whose logs to keep, or drop containerLogging.');
    }

    this.vpc = props.vpc ?? this.createVpc(props.maxAzs ?? 3);
    // The stack-wide provider aws-ec2 adds to lock down a new VPC's default security group.
    const restrictSg = Stack.of(this).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider');
    ignoreRedundantDependsOn(restrictSg?.node.tryFindChild('Handler'));
    this.secretsEncryptionKey = props.secretsEncryptionKey ?? new kms.Key(this, 'SecretsKey', {
      description: 'Envelope encryption of Kubernetes Secrets',
      enableKeyRotation: true,
    });
    this.adminRole = props.adminRole;

    this.cluster = new eks.Cluster(this, 'Resource', {
      clusterName: props.clusterName,
      version: eks.KubernetesVersion.of(version.version),
      vpc: this.vpc,
      vpcSubnets: [{ subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS }],
      // Node groups rather than Auto Mode: the platform owns instance types, Spot and launch templates.
      defaultCapacityType: eks.DefaultCapacityType.NODEGROUP,
      defaultCapacity: 0,
      endpointAccess,
      clusterLogging: ALL_LOG_TYPES,
      secretsEncryptionKey: this.secretsEncryptionKey,
      mastersRole: props.adminRole,
      bootstrapClusterCreatorAdminPermissions: props.bootstrapClusterCreatorAdmin ?? true,
      kubectlProviderOptions: { kubectlLayer: new KubectlV36Layer(this, 'KubectlLayer') },
    });
    acknowledgeClusterInternals(this.cluster);

    // Pinned, and shared with anything else in the cluster that uses Pod Identity.
    const agent = this.cluster.eksPodIdentityAgent!.node.defaultChild as eks.CfnAddon;
    agent.addonVersion = EksAddonVersion.EKS_POD_IDENTITY_AGENT.version;

    this.vpcCni = new VpcCni(this, 'VpcCni', { cluster: this.cluster, settings: vpcCniSettings });

    this.nodeRole = new iam.Role(this, 'NodeRole', {
      description: 'EKS managed node group instances (the VPC CNI has its own role)',
      assumedBy: new iam.ServicePrincipal('ec2.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEKSWorkerNodePolicy'),
        iam.ManagedPolicy.fromAwsManagedPolicyName('AmazonEC2ContainerRegistryReadOnly'),
      ],
    });
    Validations.of(this.nodeRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEKSWorkerNodePolicy]',
      reason: 'EKS requires this AWS-maintained policy on node instance roles so the kubelet can join the cluster; AWS updates it with new EKS features.',
    });
    Validations.of(this.nodeRole).acknowledge({
      id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AmazonEC2ContainerRegistryReadOnly]',
      reason: 'Nodes pull EKS system images (pause, CoreDNS, add-ons) from AWS-owned ECR registries in other accounts; this read-only policy is the documented way.',
    });

    this.systemNodeGroup = this.addNodeGroup('SystemNodes', systemNodeGroup);

    this.networkPolicies = new NetworkPolicies(this, 'NetworkPolicies', { cluster: this.cluster, namespaces, engine });
    this.needsNodes(this.networkPolicies.calicoChart);
    this.loadBalancerControllerOptions = props.loadBalancerController;
    if (props.loadBalancerController) this.ensureLoadBalancerController();
    if (props.externalDns) {
      this.externalDns = new ExternalDns(this, 'ExternalDns', {
        cluster: this.cluster,
        hostedZones: props.externalDns.hostedZones,
        cloudMapNamespace: props.externalDns.cloudMapNamespace,
        policy: props.externalDns.policy,
      });
      this.needsNodes(this.externalDns.chart);
    }
    if (props.containerLogging) {
      this.containerLogging = new ContainerLogging(this, 'ContainerLogging', {
        cluster: this.cluster,
        namespaces,
        retention: props.containerLogging.retention,
        encryptionKey: props.containerLogging.encryptionKey,
      });
      this.needsNodes(this.containerLogging.chart);
    }
    if (props.karpenter) {
      this.karpenter = new Karpenter(this, 'Karpenter', { ...props.karpenter, cluster: this.cluster });
      this.needsNodes(this.karpenter.chart);
    }
    this.kedaOptions = props.keda;
    if (props.keda) this.ensureKeda();
  }

  /** KEDA, once `keda` or `addNewRelicPodScaling()` installed it. */
  public get keda(): Keda | undefined {
    return this._keda;
  }

  /**
   * Scales a Deployment on the New Relic metric `NewRelicMetricBridge` publishes (the one the ECS
   * services scale on), installing KEDA on first use. Missing or stale data never scales in.
   */
  public addNewRelicPodScaling(id: string, options: NewRelicPodScalingOptions): NewRelicPodScaling {
    const scaling = new NewRelicPodScaling(this, id, { ...options, cluster: this.cluster, keda: this.ensureKeda() });
    scaling.scaledObject.node.addDependency(this.addNamespace(options.namespaceName));
    return scaling;
  }

  /** The AWS Load Balancer Controller, once `loadBalancerController` or `addIngress()` installed it. */
  public get loadBalancerController(): LoadBalancerController | undefined {
    return this._loadBalancerController;
  }

  /**
   * Adds an Ingress with host- and path-based routes served by an ALB (target type ip),
   * installing the AWS Load Balancer Controller on first use. Pods in a default-deny namespace
   * also need `allowFromVpc()` for the ALB to reach them.
   */
  public addIngress(id: string, options: IngressOptions): eks.KubernetesManifest {
    return this.ensureLoadBalancerController().addIngress(id, options);
  }

  /**
   * Allows traffic from one service (or a whole namespace) to another on the given ports; the
   * destination must be one of `namespaces`.
   */
  public allowTraffic(options: AllowTrafficOptions): eks.KubernetesManifest {
    return this.networkPolicies.allow(options);
  }

  /**
   * Allows traffic from the whole VPC CIDR into a service, which is what an ALB with target type
   * ip (and its health checks) needs to reach pods in a default-deny namespace.
   */
  public allowFromVpc(id: string, options: EksAllowFromVpcOptions): eks.KubernetesManifest {
    return this.networkPolicies.allowFromCidr(id, { ...options, cidr: this.vpc.vpcCidrBlock });
  }

  /**
   * Adds a managed node group whose instances use a launch template that requires IMDSv2 with a
   * hop limit of 1 (pods cannot reach the node's credentials) and encrypts the root volume.
   */
  public addNodeGroup(id: string, options: EksNodeGroupOptions = {}): eks.Nodegroup {
    validateNodeGroup(this, id, options);
    const spot = options.capacityType === eks.CapacityType.SPOT;
    const instanceTypes = options.instanceTypes ?? (spot ? SPOT_TYPES : ON_DEMAND_TYPES).map((t) => new ec2.InstanceType(t));
    if (spot && instanceTypes.length < 2) {
      Annotations.of(this).addWarningV2('cdk-container-patterns:eks-spot-single-type',
        `Node group ${id} uses Spot with a single instance type; list several types of the same size so one interruption wave cannot empty it.`);
    }
    const minSize = options.minSize ?? 1;
    const maxSize = options.maxSize ?? Math.max(3, minSize);

    const launchTemplate = new ec2.LaunchTemplate(this, `${id}LaunchTemplate`, {
      requireImdsv2: true,
      httpTokens: ec2.LaunchTemplateHttpTokens.REQUIRED,
      httpPutResponseHopLimit: 1,
      blockDevices: [{
        deviceName: '/dev/xvda',
        volume: ec2.BlockDeviceVolume.ebs(options.diskSizeGiB ?? 50, { encrypted: true, volumeType: ec2.EbsDeviceVolumeType.GP3 }),
      }],
    });

    const nodeGroup = this.cluster.addNodegroupCapacity(id, {
      capacityType: options.capacityType ?? eks.CapacityType.ON_DEMAND,
      instanceTypes,
      amiType: amiTypeFor(instanceTypes),
      minSize,
      maxSize,
      desiredSize: options.desiredSize ?? minSize,
      labels: options.labels,
      taints: options.taints,
      nodeRole: this.nodeRole,
      subnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      launchTemplateSpec: { id: launchTemplate.launchTemplateId!, version: launchTemplate.latestVersionNumber },
    });
    // aws-node must be the managed add-on (with its Pod Identity role) before nodes boot.
    nodeGroup.node.addDependency(this.vpcCni);
    return nodeGroup;
  }

  /**
   * Maps an IAM role to Kubernetes RBAC: cluster admin, namespace developer (edit in listed
   * namespaces, which are created if needed) or read-only. Each role can be mapped once.
   */
  public addAccess(id: string, options: EksAccessOptions): EksAccess {
    const role = options.role;
    if (this.adminRole && (role === this.adminRole || (!Token.isUnresolved(role.roleArn) && role.roleArn === this.adminRole.roleArn))) {
      invalidProp(this, `addAccess(${id}).role`, role.roleArn, 'is already the platform adminRole; a role can have one access entry only',
        'Drop this mapping (adminRole is already cluster admin) or use another role.');
    }
    const previous = this.accessPrincipals.get(role);
    if (previous) {
      invalidProp(this, `addAccess(${id}).role`, role.node.path, `is already mapped by addAccess(${previous}); a role can have one access entry only`,
        'Map each role once, with the widest access it needs.');
    }
    this.accessPrincipals.set(role, id);
    return new EksAccess(this, id, { ...options, cluster: this.cluster });
  }

  /**
   * Returns the manifest that creates a namespace, creating it on first use. Every feature of
   * the platform that needs a namespace goes through here, so one manifest owns each namespace.
   */
  public addNamespace(name: string): eks.KubernetesManifest {
    return ensureNamespace(this.cluster, name);
  }

  private ensureLoadBalancerController(): LoadBalancerController {
    if (!this._loadBalancerController) {
      this._loadBalancerController = new LoadBalancerController(this, 'LoadBalancerController', {
        cluster: this.cluster,
        ingressClassName: this.loadBalancerControllerOptions?.ingressClassName,
        values: this.loadBalancerControllerOptions?.values,
      });
      this.needsNodes(this._loadBalancerController.chart);
    }
    return this._loadBalancerController;
  }

  private ensureKeda(): Keda {
    if (!this._keda) {
      this._keda = new Keda(this, 'Keda', { ...this.kedaOptions, cluster: this.cluster });
      this.needsNodes(this._keda.chart);
    }
    return this._keda;
  }

  /** Helm charts wait for their pods: install them only once the system nodes exist. */
  private needsNodes(chart: Construct | undefined): void {
    chart?.node.addDependency(this.systemNodeGroup);
  }

  private createVpc(maxAzs: number): ec2.Vpc {
    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        // /19 leaves room for pod IPs: with the VPC CNI every pod takes an address here.
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
    });
    vpc.addFlowLog('FlowLog', {
      destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_YEAR })),
    });
    return vpc;
  }
}

function validateVersion(scope: Construct, version: EksKubernetesVersion): void {
  const match = /^1\.(\d+)$/.exec(version.version);
  const minor = match ? Number(match[1]) : NaN;
  if (!match || minor < MIN_MINOR || minor > MAX_MINOR) {
    invalidProp(scope, 'version', version.version, `is not a Kubernetes version EKS runs with this library (1.${MIN_MINOR} to 1.${MAX_MINOR})`,
      'Use a constant such as EksKubernetesVersion.V1_35, or EksKubernetesVersion.of(\'1.NN\') within that range.');
  }
}

function resolveEndpointAccess(scope: Construct, access: EksEndpointAccess, cidrs: string[] | undefined): eks.EndpointAccess {
  if (access === EksEndpointAccess.PRIVATE) {
    if (cidrs && cidrs.length > 0) {
      invalidProp(scope, 'publicEndpointCidrs', cidrs, 'has no effect while endpointAccess is PRIVATE',
        'Set endpointAccess to EksEndpointAccess.PUBLIC_AND_PRIVATE, or remove publicEndpointCidrs.');
    }
    return eks.EndpointAccess.PRIVATE;
  }
  if (!cidrs || cidrs.length === 0) {
    invalidProp(scope, 'publicEndpointCidrs', cidrs, 'must list the CIDRs allowed to reach a public endpoint',
      'List your office or CI egress CIDRs, e.g. ["203.0.113.0/24"], or keep endpointAccess PRIVATE.');
  }
  for (const cidr of cidrs) {
    if (Token.isUnresolved(cidr)) continue;
    if (!/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/.test(cidr)) {
      invalidProp(scope, 'publicEndpointCidrs', cidr, 'is not an IPv4 CIDR', 'Write it like "203.0.113.0/24".');
    }
    if (cidr.endsWith('/0')) {
      invalidProp(scope, 'publicEndpointCidrs', cidr, 'opens the API endpoint to the whole internet',
        'List only the networks that need the API, or keep endpointAccess PRIVATE.');
    }
  }
  const dup = duplicatesOf(cidrs);
  if (dup.length > 0) invalidProp(scope, 'publicEndpointCidrs', dup, 'are listed more than once', 'List each CIDR once.');
  return eks.EndpointAccess.PUBLIC_AND_PRIVATE.onlyFrom(...cidrs);
}

function validateNodeGroup(scope: Construct, id: string, o: EksNodeGroupOptions): void {
  const p = (name: string) => `${id}.${name}`;
  requireIntegerInRange(scope, p('minSize'), o.minSize, 0, 450);
  requireIntegerInRange(scope, p('maxSize'), o.maxSize, 1, 450);
  requireIntegerInRange(scope, p('desiredSize'), o.desiredSize, 0, 450);
  requireIntegerInRange(scope, p('diskSizeGiB'), o.diskSizeGiB, 20, 16384);
  const min = o.minSize ?? 1;
  const max = o.maxSize ?? Math.max(3, min);
  if (o.maxSize !== undefined && min > max) {
    invalidProp(scope, p('minSize'), min, `must not exceed ${p('maxSize')} (${max})`, `Raise ${p('maxSize')} or lower ${p('minSize')}.`);
  }
  if (o.desiredSize !== undefined && (o.desiredSize < min || o.desiredSize > max)) {
    invalidProp(scope, p('desiredSize'), o.desiredSize, `must be between ${p('minSize')} (${min}) and ${p('maxSize')} (${max})`,
      `Set ${p('desiredSize')} within that range or leave it out (it defaults to minSize).`);
  }
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

/** With a launch template EKS cannot infer the AMI, so pick AL2023 for the instances' architecture. */
function amiTypeFor(types: ec2.InstanceType[]): eks.NodegroupAmiType {
  const archs = new Set(types.map((t) => t.architecture));
  return archs.has(ec2.InstanceArchitecture.ARM_64) ? eks.NodegroupAmiType.AL2023_ARM_64_STANDARD : eks.NodegroupAmiType.AL2023_X86_64_STANDARD;
}

/** The network policy engine decides whether the VPC CNI runs its policy agent; a conflicting setting is an error. */
function vpcCniFor(scope: Construct, engine: NetworkPolicyEngine, settings: VpcCniSettings = {}): VpcCniSettings {
  const wanted = engine === NetworkPolicyEngine.VPC_CNI;
  if (settings.networkPolicyAgent !== undefined && settings.networkPolicyAgent !== wanted) {
    invalidProp(scope, 'vpcCni.networkPolicyAgent', settings.networkPolicyAgent,
      `conflicts with networkPolicyEngine ${engine}: ${wanted ? 'the VPC CNI agent is the engine' : 'Calico and the VPC CNI agent must not both enforce policy'}`,
      'Leave vpcCni.networkPolicyAgent unset; networkPolicyEngine decides it.');
  }
  return { ...settings, networkPolicyAgent: wanted };
}
