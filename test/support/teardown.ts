/* eslint-disable @typescript-eslint/no-explicit-any -- reads CloudFormation JSON from a synthesized template */
import { parseManifest } from './k8s';

// Issue 19: what a stack delete does, read from the template. CloudFormation deletes a resource only
// after every resource that depends on it (DependsOn, Ref, Fn::GetAtt, Fn::Sub) is gone, so "A is
// deleted before B" holds exactly when A depends on B, directly or through others.

type Resources = Record<string, { Type: string; Properties?: unknown; DependsOn?: string | string[]; DeletionPolicy?: string }>;

function referencesIn(value: unknown, out: Set<string>): Set<string> {
  if (Array.isArray(value)) {
    value.forEach((v) => referencesIn(v, out));
  } else if (value !== null && typeof value === 'object') {
    for (const [key, v] of Object.entries(value as Record<string, unknown>)) {
      if (key === 'Ref' && typeof v === 'string') out.add(v);
      else if (key === 'Fn::GetAtt') out.add(Array.isArray(v) ? String(v[0]) : String(v).split('.')[0]);
      else if (key === 'Fn::Sub') {
        const [text, vars] = Array.isArray(v) ? v : [v, {}];
        for (const m of String(text).matchAll(/\$\{([^!}][^}]*)\}/g)) out.add(m[1].split('.')[0]);
        referencesIn(vars, out);
      } else referencesIn(v, out);
    }
  }
  return out;
}

/** The delete order of one template. */
export class DeleteOrder {
  private readonly direct = new Map<string, Set<string>>();
  private readonly closures = new Map<string, Set<string>>();

  constructor(private readonly resources: Resources) {
    for (const [id, r] of Object.entries(resources)) {
      const deps = referencesIn(r.Properties ?? {}, new Set<string>());
      for (const d of [r.DependsOn ?? []].flat()) deps.add(d);
      this.direct.set(id, new Set([...deps].filter((d) => d in resources)));
    }
  }

  /** Logical ids of the resources of a type. */
  public ofType(type: string): string[] {
    return Object.entries(this.resources).filter(([, r]) => r.Type === type).map(([id]) => id);
  }

  public type(id: string): string {
    return this.resources[id].Type;
  }

  public properties(id: string): any {
    return this.resources[id].Properties ?? {};
  }

  /** Everything `id` depends on, directly or not: what CloudFormation deletes only after `id`. */
  public deletedAfter(id: string): Set<string> {
    const cached = this.closures.get(id);
    if (cached) return cached;
    const all = new Set<string>();
    this.closures.set(id, all);
    for (const d of this.direct.get(id) ?? []) {
      all.add(d);
      for (const t of this.deletedAfter(d)) all.add(t);
    }
    return all;
  }

  /** True when CloudFormation finishes deleting `first` before it starts on `second`. */
  public deletedBefore(first: string, second: string): boolean {
    return this.deletedAfter(first).has(second);
  }

  /** Resources of `type` that `id` depends on. */
  public dependenciesOfType(id: string, type: string): string[] {
    return [...this.deletedAfter(id)].filter((d) => this.resources[d].Type === type).sort();
  }
}

const refOf = (v: unknown): string | undefined => (v !== null && typeof v === 'object' && typeof (v as any).Ref === 'string' ? (v as any).Ref : undefined);

/**
 * Why an ECS cluster of the template would not delete without manual steps, one line per cause
 * (empty when it deletes): every service of the cluster goes before the capacity provider
 * association (ECS refuses to disassociate a provider in use), the association before its capacity
 * providers, each provider before its Auto Scaling group, each group before the cluster (a cluster
 * with registered instances cannot be deleted); and no group is held by managed termination
 * protection (ECS leaves instances protected from scale-in, aws-cdk#18179).
 */
export function ecsTeardownProblems(order: DeleteOrder): string[] {
  const problems: string[] = [];
  for (const cluster of order.ofType('AWS::ECS::Cluster')) {
    const associations = order.ofType('AWS::ECS::ClusterCapacityProviderAssociations').filter((a) => refOf(order.properties(a).Cluster) === cluster);
    const services = order.ofType('AWS::ECS::Service').filter((s) => refOf(order.properties(s).Cluster) === cluster);
    for (const a of associations) {
      for (const s of services.filter((x) => !order.deletedBefore(x, a))) problems.push(`service ${s} is not deleted before ${a}: ECS refuses to disassociate a capacity provider in use`);
      for (const provider of (order.properties(a).CapacityProviders ?? []).map(refOf).filter((p: unknown): p is string => p !== undefined)) {
        if (!order.deletedBefore(a, provider)) problems.push(`${a} is not deleted before capacity provider ${provider}`);
        const asgProvider = order.properties(provider).AutoScalingGroupProvider ?? {};
        if (asgProvider.ManagedTerminationProtection === 'ENABLED') problems.push(`capacity provider ${provider} has managed termination protection: its instances stay protected from scale-in and the group's delete waits (aws-cdk#18179)`);
        const asg = refOf(asgProvider.AutoScalingGroupArn);
        if (asg === undefined) continue;
        if (!order.deletedBefore(provider, asg)) problems.push(`capacity provider ${provider} is not deleted before its group ${asg}`);
        if (!order.deletedBefore(asg, cluster)) problems.push(`group ${asg} is not deleted before cluster ${cluster}: a cluster with registered instances cannot be deleted`);
        if (order.properties(asg).NewInstancesProtectedFromScaleIn === true) problems.push(`group ${asg} protects new instances from scale-in: its delete cannot scale to zero`);
      }
    }
  }
  return problems;
}

/** Charts whose controllers put finalizers on objects of these kinds: deleted after them, those objects never go away. */
const FINALIZER_OWNERS: ReadonlyArray<{ chart: string; kinds: readonly string[]; namespaced: boolean; why: string }> = [
  { chart: 'aws-load-balancer-controller', kinds: ['Ingress', 'TargetGroupBinding'], namespaced: true, why: 'the controller removes the load balancer and lifts the finalizer' },
  { chart: 'keda', kinds: ['ScaledObject', 'ScaledJob', 'TriggerAuthentication', 'ClusterTriggerAuthentication'], namespaced: true, why: 'KEDA lifts its finalizer' },
  { chart: 'karpenter', kinds: ['NodePool', 'EC2NodeClass', 'NodeClaim'], namespaced: false, why: 'Karpenter terminates the nodes and lifts its finalizer' },
];

/**
 * Why the Kubernetes side of an EKS stack would not delete without manual steps (empty when it
 * deletes). The kubectl handler runs `kubectl delete`, which waits for finalizers; a finalizer whose
 * controller is already gone holds the delete until the handler times out (aws-cdk#30452). So:
 * objects with a controller's finalizer go before that controller's chart; a Service of type
 * LoadBalancer too; a namespace before every such chart (what it holds may carry their finalizers);
 * an Ingress before its IngressClass and IngressClassParams (aws-load-balancer-controller#4341).
 */
export function eksTeardownProblems(order: DeleteOrder): string[] {
  const charts = new Map(order.ofType('Custom::AWSCDK-EKS-HelmChart').map((id) => [String(order.properties(id).Chart), id]));
  const manifests = order.ofType('Custom::AWSCDK-EKS-KubernetesResource').map((id) => ({ id, objects: parseManifest(order.properties(id).Manifest) }));
  const holding = (kind: string, name: string) => manifests.filter((m) => m.objects.some((o) => o.kind === kind && o.metadata.name === name)).map((m) => m.id);
  const problems: string[] = [];
  const mustPrecede = (first: string, second: string | undefined, why: string) => {
    if (second !== undefined && first !== second && !order.deletedBefore(first, second)) problems.push(`${first} is not deleted before ${second}: ${why}`);
  };
  for (const { id, objects } of manifests) {
    for (const owner of FINALIZER_OWNERS) {
      const kinds = objects.filter((o) => owner.kinds.includes(o.kind) || (owner.chart === 'aws-load-balancer-controller' && o.kind === 'Service' && o.spec?.type === 'LoadBalancer'));
      if (kinds.length > 0) mustPrecede(id, charts.get(owner.chart), `${[...new Set(kinds.map((o) => o.kind))].join(', ')} need it running (${owner.why})`);
      if (owner.namespaced && objects.some((o) => o.kind === 'Namespace')) mustPrecede(id, charts.get(owner.chart), `the namespace's objects may carry its finalizers (${owner.why})`);
    }
    for (const ingress of objects.filter((o) => o.kind === 'Ingress')) {
      const className = ingress.spec?.ingressClassName;
      for (const holder of holding('IngressClass', className)) mustPrecede(id, holder, `Ingress ${ingress.metadata.name} would be stuck without its IngressClass ${className}`);
      const classes = manifests.flatMap((m) => m.objects).filter((o) => o.kind === 'IngressClass' && o.metadata.name === className);
      for (const params of classes.map((c) => c.spec?.parameters?.name).filter((n): n is string => typeof n === 'string')) {
        for (const holder of holding('IngressClassParams', params)) mustPrecede(id, holder, `Ingress ${ingress.metadata.name} would be stuck without IngressClassParams ${params}`);
      }
    }
  }
  return problems;
}
