import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { albControllerPolicyJson, albControllerWildcardResources } from './private/alb-controller-policy';
import { ingressClassObject, ingressObject } from './private/k8s-objects';
import { deepMerge } from './private/merge';
import { addonServiceAccount } from './private/service-account';
import { EksPodIdentityServiceAccount } from '../pod-identity';
import { requireDnsLabel, requireHostName, requirePort } from './private/names';
import { invalidProp } from '../../private/validation';
import { ensureNamespace } from '../private/namespaces';
import { requireMatchingAlbPolicy } from '../private/version-matrix';
import { EksHelmChartVersion } from '../versions';

/** Whether an ALB is reachable from the internet or only from inside the VPC. */
export enum IngressScheme {
  /** A public ALB in the public subnets. */
  INTERNET_FACING = 'internet-facing',
  /** A private ALB in the private subnets. */
  INTERNAL = 'internal',
}

/** How an Ingress path is matched. */
export enum IngressPathType {
  /** Matches the path and everything below it (`/api` matches `/api/v1`). */
  PREFIX = 'Prefix',
  /** Matches the path exactly. */
  EXACT = 'Exact',
}

/** One host/path route to a Kubernetes Service. */
export interface IngressRoute {
  /**
   * Host name to match, e.g. `api.example.com` or `*.example.com`.
   *
   * @default - any host
   */
  readonly host?: string;
  /**
   * Path to match; starts with `/`.
   *
   * @default '/'
   */
  readonly path?: string;
  /**
   * How `path` is matched.
   *
   * @default IngressPathType.PREFIX
   */
  readonly pathType?: IngressPathType;
  /** Name of the Service (in the Ingress namespace) that receives the traffic. */
  readonly serviceName: string;
  /** Port of that Service, 1-65535. */
  readonly servicePort: number;
}

/** An Ingress served by the AWS Load Balancer Controller. */
export interface IngressOptions {
  /** Namespace of the Ingress and of the Services it routes to; created (once per cluster) unless built in. */
  readonly namespaceName: string;
  /**
   * Name of the Ingress object.
   *
   * @default - the id, lowercased
   */
  readonly name?: string;
  /** Routes, matched by host and path. A host and path pair can lead to one service only. */
  readonly routes: IngressRoute[];
  /**
   * Whether the ALB is internet-facing or internal.
   *
   * @default IngressScheme.INTERNAL
   */
  readonly scheme?: IngressScheme;
  /**
   * IngressGroup name: Ingresses with the same group share one ALB.
   *
   * @default - the Ingress gets its own ALB
   */
  readonly groupName?: string;
  /**
   * IngressClass of the Ingress. `EksPlatform` sets the owning team's class for team namespaces.
   *
   * @default - the class this controller creates (`ingressClassName` of the controller)
   */
  readonly ingressClassName?: string;
  /**
   * ACM certificate for an HTTPS listener on 443.
   *
   * @default - HTTP on port 80 only
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Whether HTTP requests are redirected to HTTPS (needs `certificate`).
   *
   * @default - true when a certificate is given
   */
  readonly sslRedirect?: boolean;
}

/** The AWS Load Balancer Controller: what {@link EksPlatform} takes as `loadBalancerController`. */
export interface EksLoadBalancerControllerOptions {
  /**
   * Name of the IngressClass this construct creates.
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

/** Props of {@link LoadBalancerController}. */
export interface LoadBalancerControllerProps extends EksLoadBalancerControllerOptions {
  /** The cluster the controller runs in. */
  readonly cluster: eks.ICluster;
  /**
   * The Helm chart. Its IAM policy (`alb-controller-iam-policy.json`) matches
   * `EksHelmChartVersion.AWS_LOAD_BALANCER_CONTROLLER`; another version may need another policy.
   *
   * @default EksHelmChartVersion.AWS_LOAD_BALANCER_CONTROLLER
   */
  readonly chart?: EksHelmChartVersion;
}

const SERVICE_ACCOUNT = 'aws-load-balancer-controller';
const CONTROLLER = 'ingress.k8s.aws/alb';
/** Namespaces Kubernetes creates itself; this library never owns (or deletes) them. */
const BUILT_IN_NAMESPACE = /^(default|kube-.*)$/;

interface RouteOwner {
  readonly ingress: string;
  readonly target: string;
}

/**
 * The AWS Load Balancer Controller (pinned Helm chart) with its upstream IAM policy, a service
 * account and an IngressClass, plus `addIngress()` for host- and path-based routes that become
 * Ingress objects with the ALB annotations.
 */
export class LoadBalancerController extends Construct {
  /** The controller's service account; its role carries the controller policy. */
  public readonly serviceAccount: EksPodIdentityServiceAccount;
  /** The customer managed policy with the upstream controller permissions. */
  public readonly policy: iam.ManagedPolicy;
  /** The controller chart. Ingresses depend on it, because its webhook validates them. */
  public readonly chart: eks.HelmChart;
  /** Name of the IngressClass that routes Ingresses to this controller. */
  public readonly ingressClassName: string;
  /**
   * The manifest of that IngressClass. Ingresses of the class depend on it: deleted first, the
   * class would leave their deletion stuck (the controller's webhook refuses to lift the finalizer
   * of an Ingress whose class is gone, aws-load-balancer-controller#4341).
   */
  public readonly ingressClass: eks.KubernetesManifest;

  private readonly cluster: eks.ICluster;
  /** host+path → owner, per ALB (IngressGroup name, or the Ingress itself when ungrouped). */
  private readonly routeOwners = new Map<string, Map<string, RouteOwner>>();
  private readonly ingressNames = new Set<string>();

  constructor(scope: Construct, id: string, props: LoadBalancerControllerProps) {
    super(scope, id);
    const ingressClassName = props.ingressClassName ?? 'alb';
    requireDnsLabel(this, 'ingressClassName', ingressClassName);
    this.cluster = props.cluster;
    this.ingressClassName = ingressClassName;
    const chart = props.chart ?? EksHelmChartVersion.AWS_LOAD_BALANCER_CONTROLLER;
    requireMatchingAlbPolicy(this, chart);
    const stack = Stack.of(this);

    this.serviceAccount = addonServiceAccount(this, props.cluster, SERVICE_ACCOUNT);
    this.policy = new iam.ManagedPolicy(this, 'Policy', {
      description: `AWS Load Balancer Controller ${chart.appVersion ?? chart.version} (upstream policy)`,
      document: iam.PolicyDocument.fromJson(albControllerPolicyJson(stack.partition)),
      roles: [this.serviceAccount.role],
    });
    acknowledgeUpstreamWildcards(this.policy, stack.partition);

    this.chart = new eks.HelmChart(this, 'Resource', {
      cluster: props.cluster,
      chart: chart.chart,
      repository: chart.repository,
      version: chart.version,
      release: 'aws-load-balancer-controller',
      namespace: 'kube-system',
      // Ingresses are applied right after: the controller's webhook must be serving by then.
      wait: true,
      values: deepMerge({
        clusterName: props.cluster.clusterName,
        region: stack.region,
        vpcId: props.cluster.vpc.vpcId,
        serviceAccount: { create: false, name: SERVICE_ACCOUNT },
        // The IngressClass is created below as a validated typed object instead.
        createIngressClassResource: false,
      }, props.values),
    });
    this.chart.node.addDependency(this.serviceAccount);

    this.ingressClass = new eks.KubernetesManifest(this, 'IngressClass', {
      cluster: props.cluster,
      manifest: [ingressClassObject({
        metadata: { name: ingressClassName },
        spec: { controller: CONTROLLER },
      })],
    });
  }

  /**
   * Adds an Ingress with host- and path-based routes, served by an ALB.
   *
   * Fails when a host and path pair is already routed on the same ALB (same Ingress, or same
   * IngressGroup) to any service.
   *
   * @returns the manifest holding the Ingress object
   */
  public addIngress(id: string, options: IngressOptions): eks.KubernetesManifest {
    const name = options.name ?? id.toLowerCase();
    requireDnsLabel(this, `${id}.namespaceName`, options.namespaceName);
    requireDnsLabel(this, `${id}.name`, name);
    if (options.ingressClassName !== undefined) requireDnsLabel(this, `${id}.ingressClassName`, options.ingressClassName);
    const ingressKey = `${options.namespaceName}/${name}`;
    if (this.ingressNames.has(ingressKey)) {
      invalidProp(this, `${id}.name`, name, `is already used by another Ingress in namespace "${options.namespaceName}"`, 'Give each Ingress its own name.');
    }
    if (options.groupName !== undefined && (options.groupName.length > 63 || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(options.groupName))) {
      invalidProp(this, `${id}.groupName`, options.groupName, 'is not a valid IngressGroup name (lowercase letters, digits, \'-\' and \'.\', at most 63 characters)',
        'Use a name such as "shared-public".');
    }
    if (options.sslRedirect && !options.certificate) {
      invalidProp(this, `${id}.sslRedirect`, true, 'needs an HTTPS listener, but no certificate is given', 'Pass certificate, or drop sslRedirect.');
    }
    if (options.routes.length === 0) invalidProp(this, `${id}.routes`, [], 'is empty', 'Give at least one route.');

    // Check every route before recording any, so a failed call leaves no half-registered routes.
    const albKey = options.groupName !== undefined ? `group:${options.groupName}` : `ingress:${ingressKey}`;
    const owners = this.routeOwners.get(albKey) ?? new Map<string, RouteOwner>();
    const pending = new Map<string, RouteOwner>();
    options.routes.forEach((route, i) => {
      const prop = `${id}.routes[${i}]`;
      if (route.host !== undefined) requireHostName(this, `${prop}.host`, route.host);
      const path = route.path ?? '/';
      if (!path.startsWith('/') || /\s/.test(path)) {
        invalidProp(this, `${prop}.path`, path, 'must start with "/" and contain no whitespace', 'Use a path such as "/api".');
      }
      requireDnsLabel(this, `${prop}.serviceName`, route.serviceName);
      requirePort(this, `${prop}.servicePort`, route.servicePort);
      const key = `${route.host ?? '*'}${path}`;
      const target = `${options.namespaceName}/${route.serviceName}:${route.servicePort}`;
      const existing = pending.get(key) ?? owners.get(key);
      if (existing) {
        const where = `host ${route.host === undefined ? '(any)' : `"${route.host}"`} and path "${path}"`;
        invalidProp(this, prop, { host: route.host, path, serviceName: route.serviceName, servicePort: route.servicePort },
          existing.target === target
            ? `repeats the route for ${where} of Ingress "${existing.ingress}"`
            : `conflicts with Ingress "${existing.ingress}": ${where} already lead to service "${existing.target}" on the same ALB, and one host and path can lead to one service only`,
          'Change the host or the path of one of the routes, or remove one.');
      }
      pending.set(key, { ingress: ingressKey, target });
    });
    pending.forEach((owner, key) => owners.set(key, owner));
    this.routeOwners.set(albKey, owners);
    this.ingressNames.add(ingressKey);

    const annotations: { [key: string]: string } = {
      'alb.ingress.kubernetes.io/scheme': options.scheme ?? IngressScheme.INTERNAL,
      'alb.ingress.kubernetes.io/target-type': 'ip',
    };
    if (options.groupName !== undefined) annotations['alb.ingress.kubernetes.io/group.name'] = options.groupName;
    if (options.certificate) {
      annotations['alb.ingress.kubernetes.io/certificate-arn'] = options.certificate.certificateArn;
      annotations['alb.ingress.kubernetes.io/listen-ports'] = '[{"HTTP":80},{"HTTPS":443}]';
      if (options.sslRedirect ?? true) annotations['alb.ingress.kubernetes.io/ssl-redirect'] = '443';
    } else {
      annotations['alb.ingress.kubernetes.io/listen-ports'] = '[{"HTTP":80}]';
    }

    // Group routes by host, keeping the order the caller gave (ALB evaluates rules in that order).
    const hosts = new Map<string, IngressRoute[]>();
    for (const route of options.routes) {
      const k = route.host ?? '';
      hosts.set(k, [...(hosts.get(k) ?? []), route]);
    }
    const manifest = new eks.KubernetesManifest(this, `Ingress${id}`, {
      cluster: this.cluster,
      manifest: [ingressObject({
        metadata: { name, namespace: options.namespaceName, annotations },
        spec: {
          ingressClassName: options.ingressClassName ?? this.ingressClassName,
          rules: [...hosts.entries()].map(([host, routes]) => ({
            ...(host === '' ? {} : { host }),
            http: {
              paths: routes.map((r) => ({
                path: r.path ?? '/',
                pathType: r.pathType ?? IngressPathType.PREFIX,
                backend: { service: { name: r.serviceName, port: { number: r.servicePort } } },
              })),
            },
          })),
        },
      })],
    });
    // Deleted while the controller still runs and its class exists: the controller removes the ALB
    // (and its security groups, which would otherwise block the VPC's deletion) and lifts the finalizer.
    manifest.node.addDependency(this.chart);
    if ((options.ingressClassName ?? this.ingressClassName) === this.ingressClassName) manifest.node.addDependency(this.ingressClass);
    if (!BUILT_IN_NAMESPACE.test(options.namespaceName)) manifest.node.addDependency(ensureNamespace(this.cluster, options.namespaceName));
    return manifest;
  }
}

/**
 * The upstream policy needs wildcards: load balancers, target groups and security groups are
 * created at run time under names the controller picks. Each wildcard is acknowledged on its own,
 * on this policy only, so a new wildcard in a future upstream policy still fails cdk-nag.
 */
function acknowledgeUpstreamWildcards(policy: iam.ManagedPolicy, partition: string): void {
  const shown = Token.isUnresolved(partition) ? '<AWS::Partition>' : partition;
  for (const resource of albControllerWildcardResources(shown)) {
    Validations.of(policy).acknowledge({
      id: `AwsSolutions-IAM5[Resource::${resource}]`,
      reason: 'Upstream AWS Load Balancer Controller policy: ALBs, target groups, listeners and security groups are created at run time '
        + 'with names unknown at synth; mutations are limited by the elbv2.k8s.aws/cluster tag conditions upstream defines.',
    });
  }
}
