import { Token } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Construct } from 'constructs';
import { IngressScheme } from './load-balancer-controller';
import { deepMerge } from './private/merge';
import { ManifestObject, networkPolicyObject } from './private/k8s-objects';
import { requireDnsLabel, requirePort } from './private/names';
import { invalidProp, duplicatesOf } from '../../private/validation';
import { ensureNamespace } from '../private/namespaces';
import { pascalCase } from '../private/names';
import { EksHelmChartVersion } from '../versions';

/** Which engine enforces Kubernetes NetworkPolicy objects on top of the VPC CNI. */
export enum NetworkPolicyEngine {
  /**
   * Calico installed by the Tigera operator (pinned Helm chart) in policy-only mode: the VPC CNI
   * keeps assigning pod IPs, Calico only enforces policy. The VPC CNI's own agent must stay off.
   */
  CALICO = 'CALICO',
  /**
   * The VPC CNI's network policy agent (eBPF). The `vpc-cni` managed add-on must be configured
   * with `enableNetworkPolicy: "true"`; see `NetworkPolicies.requiresVpcCniNetworkPolicyAgent`.
   */
  VPC_CNI = 'VPC_CNI',
}

/** IP protocol of an allowed port. */
export enum TrafficProtocol {
  /** TCP. */
  TCP = 'TCP',
  /** UDP. */
  UDP = 'UDP',
}

/** Traffic to allow from one service (or a whole namespace) to another. */
export interface AllowTrafficOptions {
  /** Namespace of the calling pods. Any namespace; an egress rule is added only when it is one of `namespaces`. */
  readonly fromNamespace: string;
  /**
   * Service whose pods may call: pods labelled `<serviceLabel>=<fromService>`.
   *
   * @default - every pod in `fromNamespace`
   */
  readonly fromService?: string;
  /** Namespace of the called pods; must be one of the `namespaces` this construct guards. */
  readonly toNamespace: string;
  /**
   * Service whose pods are called: pods labelled `<serviceLabel>=<toService>`.
   *
   * @default - every pod in `toNamespace`
   */
  readonly toService?: string;
  /** Container ports (not Service ports) the called pods listen on, 1-65535. */
  readonly ports: number[];
  /**
   * Protocol of `ports`.
   *
   * @default TrafficProtocol.TCP
   */
  readonly protocol?: TrafficProtocol;
}

/** Traffic to let into a service (or a whole namespace) from outside the cluster's pods. */
export interface AllowIntoServiceOptions {
  /** Namespace of the called pods; must be one of the guarded `namespaces`. */
  readonly toNamespace: string;
  /**
   * Service whose pods are called (pods labelled `<serviceLabel>=<toService>`).
   *
   * @default - every pod in `toNamespace`
   */
  readonly toService?: string;
  /** Container ports the called pods listen on, 1-65535. */
  readonly ports: number[];
  /**
   * Protocol of `ports`.
   *
   * @default TrafficProtocol.TCP
   */
  readonly protocol?: TrafficProtocol;
}

/** Traffic to allow into a service from an IP range, e.g. the load balancer subnets for ALB targets of type ip. */
export interface AllowFromCidrOptions extends AllowIntoServiceOptions {
  /** Source range in CIDR notation, e.g. `subnet.ipv4CidrBlock`. */
  readonly cidr: string;
}

/** Traffic to let into a service from an ALB with target type ip: what {@link EksPlatform.allowFromVpc} takes. */
export interface EksAllowFromVpcOptions extends AllowIntoServiceOptions {
  /**
   * Where the ALB runs: only the subnets of that scheme may reach the pods (public subnets for
   * internet-facing, private subnets for internal).
   *
   * @default - both the public and the private subnets (where either kind of ALB can run)
   */
  readonly scheme?: IngressScheme;
}

/** Traffic to allow out of a service to an IP range, e.g. HTTPS to AWS APIs or the internet. */
export interface AllowToCidrOptions {
  /** Namespace of the calling pods; must be one of the guarded `namespaces`. */
  readonly fromNamespace: string;
  /**
   * Service whose pods may call out.
   *
   * @default - every pod in `fromNamespace`
   */
  readonly fromService?: string;
  /** Destination range in CIDR notation, e.g. `0.0.0.0/0` or `vpc.vpcCidrBlock`. */
  readonly cidr: string;
  /** Destination ports, 1-65535. */
  readonly ports: number[];
  /**
   * Protocol of `ports`.
   *
   * @default TrafficProtocol.TCP
   */
  readonly protocol?: TrafficProtocol;
}

export interface NetworkPoliciesProps {
  /** The cluster the policies are applied to. */
  readonly cluster: eks.ICluster;
  /**
   * Application namespaces. Each gets a default-deny policy for ingress and egress, except DNS to
   * kube-dns in kube-system. System namespaces (`kube-*`) are refused.
   */
  readonly namespaces: string[];
  /**
   * The engine that enforces the policies.
   *
   * @default NetworkPolicyEngine.VPC_CNI
   */
  readonly engine?: NetworkPolicyEngine;
  /**
   * Whether to create the namespaces. They are created once per cluster, shared with the
   * platform's other features (access, ingress). Set to false when they are created elsewhere,
   * and make this construct depend on them.
   *
   * @default true
   */
  readonly createNamespaces?: boolean;
  /**
   * Pod label that names a service; `fromService` / `toService` select pods by it.
   *
   * @default 'app.kubernetes.io/name'
   */
  readonly serviceLabel?: string;
  /**
   * Rules to allow at construction; more can be added with `allow()`.
   *
   * @default - none: everything except DNS is denied
   */
  readonly rules?: AllowTrafficOptions[];
  /**
   * Tigera operator chart (CALICO only).
   *
   * @default EksHelmChartVersion.TIGERA_OPERATOR
   */
  readonly calicoChart?: EksHelmChartVersion;
  /**
   * Extra Tigera operator chart values (CALICO only), deep-merged over the computed ones; yours win.
   *
   * @default - none
   */
  readonly calicoValues?: { [key: string]: unknown };
}

const SYSTEM_NAMESPACE = /^kube-/;

/**
 * Per-microservice network policy: default-deny in every application namespace and explicit
 * allow rules that become Kubernetes NetworkPolicy objects, enforced by Calico (Tigera operator)
 * or by the VPC CNI's own network policy agent.
 */
export class NetworkPolicies extends Construct {
  /** The engine that enforces the policies. */
  public readonly engine: NetworkPolicyEngine;
  /**
   * True when the `vpc-cni` managed add-on must run its network policy agent
   * (configuration value `enableNetworkPolicy: "true"`); false for Calico, which must not share the job.
   */
  public readonly requiresVpcCniNetworkPolicyAgent: boolean;
  /** The Tigera operator chart, when the engine is Calico. */
  public readonly calicoChart?: eks.HelmChart;

  private readonly cluster: eks.ICluster;
  private readonly namespaces: ReadonlySet<string>;
  private readonly serviceLabel: string;
  private readonly namespaceManifests = new Map<string, eks.KubernetesManifest>();
  private readonly ruleKeys = new Set<string>();

  constructor(scope: Construct, id: string, props: NetworkPoliciesProps) {
    super(scope, id);
    props.namespaces.forEach((ns, i) => {
      requireDnsLabel(this, `namespaces[${i}]`, ns);
      if (SYSTEM_NAMESPACE.test(ns)) {
        invalidProp(this, `namespaces[${i}]`, ns, 'is a Kubernetes system namespace; a default-deny policy there would cut the cluster\'s own traffic',
          'List only application namespaces.');
      }
    });
    const dup = duplicatesOf(props.namespaces);
    if (dup.length > 0) invalidProp(this, 'namespaces', props.namespaces, `lists ${dup.map((d) => `"${d}"`).join(', ')} more than once`, 'List each namespace once.');
    const serviceLabel = props.serviceLabel ?? 'app.kubernetes.io/name';
    if (!/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(serviceLabel)) {
      invalidProp(this, 'serviceLabel', serviceLabel, 'is not a valid Kubernetes label key', 'Use a key such as "app.kubernetes.io/name" or "app".');
    }

    this.cluster = props.cluster;
    this.engine = props.engine ?? NetworkPolicyEngine.VPC_CNI;
    this.requiresVpcCniNetworkPolicyAgent = this.engine === NetworkPolicyEngine.VPC_CNI;
    this.namespaces = new Set(props.namespaces);
    this.serviceLabel = serviceLabel;

    if (this.engine === NetworkPolicyEngine.CALICO) {
      const chart = props.calicoChart ?? EksHelmChartVersion.TIGERA_OPERATOR;
      this.calicoChart = new eks.HelmChart(this, 'Calico', {
        cluster: props.cluster,
        chart: chart.chart,
        repository: chart.repository,
        version: chart.version,
        release: 'calico',
        namespace: 'tigera-operator',
        createNamespace: true,
        wait: true,
        // Policy-only mode: pods keep VPC CNI addresses; Calico neither allocates IPs nor runs BGP.
        values: deepMerge({
          installation: {
            kubernetesProvider: 'EKS',
            cni: { type: 'AmazonVPC' },
            calicoNetwork: { bgp: 'Disabled' },
          },
        }, props.calicoValues),
      });
    }

    const createNamespaces = props.createNamespaces ?? true;
    for (const ns of props.namespaces) {
      const deny = new eks.KubernetesManifest(this, this.uniqueId(`DefaultDeny${pascalCase(ns)}`, `namespace "${ns}"`), {
        cluster: props.cluster,
        manifest: [defaultDeny(ns)],
      });
      // One owner per namespace in the cluster: the platform's access features may need it too.
      if (createNamespaces) deny.node.addDependency(ensureNamespace(props.cluster, ns));
      this.namespaceManifests.set(ns, deny);
    }

    (props.rules ?? []).forEach((rule) => this.allow(rule));
  }

  /**
   * Allows traffic from one service (or a whole namespace) to another on the given ports.
   *
   * Creates an ingress policy in `toNamespace` and, when `fromNamespace` is guarded by this
   * construct, the matching egress policy there. Each from/to pair may be allowed once: list every
   * port in that one call.
   *
   * @returns the manifest holding the NetworkPolicy objects
   */
  public allow(options: AllowTrafficOptions): eks.KubernetesManifest {
    requireDnsLabel(this, 'fromNamespace', options.fromNamespace);
    if (options.fromService !== undefined) requireDnsLabel(this, 'fromService', options.fromService);
    this.requireGuarded(options.toNamespace, options.toService);
    const ports = this.portsOf(options.ports, options.protocol);
    const from = selectorName(options.fromService);
    const to = selectorName(options.toService);
    const key = `${options.fromNamespace}.${from}-to-${options.toNamespace}.${to}`;
    this.requireNew(key, options);

    const objects: ManifestObject[] = [networkPolicyObject({
      metadata: { name: `allow-from.${options.fromNamespace}.${from}.to.${to}`, namespace: options.toNamespace },
      spec: {
        podSelector: this.podSelector(options.toService),
        policyTypes: ['Ingress'],
        ingress: [{
          from: [{
            namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': options.fromNamespace } },
            podSelector: this.podSelector(options.fromService),
          }],
          ports,
        }],
      },
    })];
    if (this.namespaces.has(options.fromNamespace)) {
      objects.push(networkPolicyObject({
        metadata: { name: `allow-to.${options.toNamespace}.${to}.from.${from}`, namespace: options.fromNamespace },
        spec: {
          podSelector: this.podSelector(options.fromService),
          policyTypes: ['Egress'],
          egress: [{
            to: [{
              namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': options.toNamespace } },
              podSelector: this.podSelector(options.toService),
            }],
            ports,
          }],
        },
      }));
    }
    const id = `Allow${pascalCase(options.fromNamespace)}${pascalCase(options.fromService ?? 'all')}To${pascalCase(options.toNamespace)}${pascalCase(options.toService ?? 'all')}`;
    const manifest = new eks.KubernetesManifest(this, this.uniqueId(id, `the rule ${key}`), { cluster: this.cluster, manifest: objects });
    this.dependOnNamespaces(manifest, options.fromNamespace, options.toNamespace);
    return manifest;
  }

  /**
   * Allows traffic into a service from an IP range, e.g. the VPC CIDR so that an ALB with
   * target type ip reaches pods in a default-deny namespace.
   *
   * @param id a DNS-1123 label naming the rule, e.g. `'alb'`
   * @returns the manifest holding the NetworkPolicy object
   */
  public allowFromCidr(id: string, options: AllowFromCidrOptions): eks.KubernetesManifest {
    return this.allowFromCidrs(id, [options.cidr], options);
  }

  /**
   * Allows traffic into a service (or a whole namespace) from several IP ranges in one
   * NetworkPolicy, e.g. the subnets an ALB with target type ip runs in.
   *
   * @param id a DNS-1123 label naming the rule, e.g. `'alb'`
   * @param cidrs source ranges in CIDR notation
   * @returns the manifest holding the NetworkPolicy object
   */
  public allowFromCidrs(id: string, cidrs: string[], options: AllowIntoServiceOptions): eks.KubernetesManifest {
    requireDnsLabel(this, 'id', id);
    if (cidrs.length === 0) invalidProp(this, 'cidrs', [], 'is empty', 'Give at least one source range.');
    cidrs.forEach((cidr) => this.requireCidr(cidr));
    this.requireGuarded(options.toNamespace, options.toService);
    const ports = this.portsOf(options.ports, options.protocol);
    this.requireNew(`cidr.${id}.to-${options.toNamespace}`, options);
    const manifest = new eks.KubernetesManifest(this, this.uniqueId(`AllowCidr${pascalCase(id)}To${pascalCase(options.toNamespace)}`, `the CIDR rule "${id}"`), {
      cluster: this.cluster,
      manifest: [networkPolicyObject({
        metadata: { name: `allow-cidr.${id}.to.${selectorName(options.toService)}`, namespace: options.toNamespace },
        spec: {
          podSelector: this.podSelector(options.toService),
          policyTypes: ['Ingress'],
          ingress: [{ from: cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports }],
        },
      })],
    });
    this.dependOnNamespaces(manifest, options.toNamespace);
    return manifest;
  }

  /**
   * Allows traffic out of a service (or a whole namespace) to an IP range, e.g. HTTPS to AWS
   * APIs or the internet, which the default-deny policy blocks.
   *
   * @param id a DNS-1123 label naming the rule, e.g. `'https-out'`
   * @returns the manifest holding the NetworkPolicy object
   */
  public allowToCidr(id: string, options: AllowToCidrOptions): eks.KubernetesManifest {
    requireDnsLabel(this, 'id', id);
    this.requireCidr(options.cidr);
    this.requireGuarded(options.fromNamespace, options.fromService, 'fromNamespace', 'fromService');
    const ports = this.portsOf(options.ports, options.protocol);
    this.requireNew(`cidr-out.${id}.from-${options.fromNamespace}`, options);
    const manifest = new eks.KubernetesManifest(this, this.uniqueId(`AllowCidr${pascalCase(id)}From${pascalCase(options.fromNamespace)}`, `the CIDR rule "${id}"`), {
      cluster: this.cluster,
      manifest: [networkPolicyObject({
        metadata: { name: `allow-to-cidr.${id}.from.${selectorName(options.fromService)}`, namespace: options.fromNamespace },
        spec: {
          podSelector: this.podSelector(options.fromService),
          policyTypes: ['Egress'],
          egress: [{ to: [{ ipBlock: { cidr: options.cidr } }], ports }],
        },
      })],
    });
    this.dependOnNamespaces(manifest, options.fromNamespace);
    return manifest;
  }

  private requireCidr(cidr: string): void {
    if (!Token.isUnresolved(cidr) && !/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$|^[0-9a-fA-F:]+\/\d{1,3}$/.test(cidr)) {
      invalidProp(this, 'cidr', cidr, 'is not a CIDR block', 'Use a range such as "10.0.0.0/16" or vpc.vpcCidrBlock.');
    }
  }

  private requireGuarded(namespace: string, service: string | undefined, namespaceProp = 'toNamespace', serviceProp = 'toService'): void {
    requireDnsLabel(this, namespaceProp, namespace);
    if (service !== undefined) requireDnsLabel(this, serviceProp, service);
    if (!this.namespaces.has(namespace)) {
      // An allow policy in an unguarded namespace would silently isolate the selected pods.
      invalidProp(this, namespaceProp, namespace, `is not one of the guarded namespaces (${[...this.namespaces].join(', ') || 'none'})`,
        'Add it to namespaces so it gets a default-deny policy first.');
    }
  }

  private portsOf(ports: number[], protocol: TrafficProtocol | undefined): Array<{ port: number; protocol: 'TCP' | 'UDP' }> {
    if (ports.length === 0) invalidProp(this, 'ports', ports, 'is empty', 'List at least one container port.');
    ports.forEach((p, i) => requirePort(this, `ports[${i}]`, p));
    const dup = duplicatesOf(ports.map(String));
    if (dup.length > 0) invalidProp(this, 'ports', ports, `lists ${dup.join(', ')} more than once`, 'List each port once.');
    return [...ports].sort((a, b) => a - b).map((port) => ({ port, protocol: protocol ?? TrafficProtocol.TCP }));
  }

  private requireNew(key: string, options: object): void {
    if (this.ruleKeys.has(key)) {
      invalidProp(this, 'rule', options, 'duplicates a rule already allowed between the same source and destination',
        'Allow each pair once and list all its ports in that one rule.');
    }
    this.ruleKeys.add(key);
  }

  /** Construct ids are PascalCase, so 'a-b' and 'a--b' could meet: say which names clash instead of a bare id error. */
  private uniqueId(id: string, what: string): string {
    if (this.node.tryFindChild(id)) {
      throw new Error(`${this.node.path}: ${what} maps to construct id ${id}, which another rule or namespace already uses. Rename one of them.`);
    }
    return id;
  }

  private podSelector(service: string | undefined): { matchLabels?: { [key: string]: string } } {
    return service === undefined ? {} : { matchLabels: { [this.serviceLabel]: service } };
  }

  private dependOnNamespaces(manifest: eks.KubernetesManifest, ...namespaces: string[]): void {
    for (const ns of namespaces) {
      const nsManifest = this.namespaceManifests.get(ns);
      if (nsManifest) manifest.node.addDependency(nsManifest);
    }
  }
}

/** `all` for a whole namespace, `svc-<name>` for one service: the two can never collide in an object name. */
function selectorName(service: string | undefined): string {
  return service === undefined ? 'all' : `svc-${service}`;
}

/** Denies all ingress and egress in a namespace, except DNS queries to kube-dns in kube-system. */
function defaultDeny(namespace: string): ManifestObject {
  return networkPolicyObject({
    metadata: { name: 'default-deny', namespace },
    spec: {
      podSelector: {},
      policyTypes: ['Ingress', 'Egress'],
      egress: [{
        to: [{
          namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
          podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
        }],
        ports: [{ protocol: 'UDP', port: 53 }, { protocol: 'TCP', port: 53 }],
      }],
    },
  });
}
