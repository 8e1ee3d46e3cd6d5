import type { Child, ClusterView, EksClusterView, KubeNodeView, KubePodView, KubeWorkloadView, ServiceView, Snapshot, TaskView } from '../../web/panopticon/model';

/** A synthetic snapshot at `multiplier` times the talk's scale (35 services, 54 tasks, 29 instances). */
export function syntheticSnapshot(multiplier = 1): Snapshot {
  const clusters: ClusterView[] = [];
  const shape = [[15, 24, 12], [10, 15, 8], [6, 9, 6], [4, 6, 3]];
  for (let copy = 1; copy <= multiplier; copy++) {
    shape.forEach(([services, tasks, instances], ci) => {
      const name = `cluster-${ci}-${copy}`;
      const arn = (kind: string, id: string) => `arn:aws:ecs:us-east-1:123456789012:${kind}/${name}/${id}`;
      const instanceViews = Array.from({ length: instances }, (_, i) => ({
        arn: arn('container-instance', `ci${i}`), id: `ci${i}`, ec2InstanceId: `i-${ci}${copy}${i}`,
        status: ci === 1 && i === 0 ? 'DRAINING' : 'ACTIVE', agentConnected: true, runningTasks: 2, pendingTasks: 0,
        registered: { cpu: 2048, memory: 4096 }, remaining: { cpu: 1024, memory: 2048 },
      }));
      const serviceViews: ServiceView[] = Array.from({ length: services }, (_, s) => ({
        arn: arn('service', `svc-${s}`), name: `${name}-svc-${String(s).padStart(2, '0')}`, status: 'ACTIVE',
        desired: 2, running: ci === 1 && s === 0 ? 1 : 2, pending: 0, capacityProviders: [], tags: ci === 3 ? { 'pr-number': String(100 + (s % 2)) } : ({} as Record<string, string>),
        deployments: [{ id: 'ecs-svc/1', status: 'PRIMARY', desired: 2, running: 2, pending: 0 }], events: [{ message: 'has reached a steady state.' }],
      }));
      const taskViews: TaskView[] = Array.from({ length: tasks }, (_, t) => ({
        arn: arn('task', `task${t}`), id: `${copy}${ci}task${String(t).padStart(4, '0')}`, service: serviceViews[t % services].name,
        lastStatus: 'RUNNING', desiredStatus: 'RUNNING', health: ci === 2 && t === 0 ? 'UNHEALTHY' : 'HEALTHY',
        containerInstanceArn: instanceViews[t % instances].arn, startedAt: '2026-01-01T00:00:00.000Z',
      }));
      clusters.push({ arn: `arn:aws:ecs:us-east-1:123456789012:cluster/${name}`, name, status: 'ACTIVE', tags: {}, services: serviceViews, tasks: taskViews, containerInstances: instanceViews });
    });
  }
  return { generatedAt: '2026-01-01T00:00:00.000Z', ecsCalls: 0, clusters };
}

/** Serializes virtual nodes to HTML (text escaped) so tests can count elements; the page itself builds DOM nodes. */
export function toHtml(nodes: Child | Child[]): string {
  const list = Array.isArray(nodes) ? nodes : [nodes];
  const esc = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }[c]!));
  return list.map((n) => (typeof n === 'string' ? esc(n)
    : `<${n.tag}${Object.entries(n.attrs).map(([k, v]) => (v === '' ? ` ${k}` : ` ${k}="${esc(v)}"`)).join('')}>${toHtml(n.children)}</${n.tag}>`)).join('');
}

/** EKS clusters at `multiplier` times the talk's scale: 35 workloads, 54 pods and 29 nodes per cluster, with problems. */
export function syntheticEks(multiplier = 1): EksClusterView[] {
  const views: EksClusterView[] = [];
  for (let copy = 1; copy <= multiplier; copy++) {
    const name = `eks-${copy}`;
    const nodes: KubeNodeView[] = Array.from({ length: 29 }, (_, i) => ({
      name: `ip-10-1-${copy}-${i}.ec2.internal`, ready: i !== 1, unschedulable: i === 0, instanceType: 'm6g.large', allocatable: { cpuMilli: 1930, memoryMiB: 7120 },
    }));
    const workloads: KubeWorkloadView[] = Array.from({ length: 35 }, (_, i) => ({
      kind: i === 34 ? 'DaemonSet' : 'Deployment', namespace: `team-${i % 4}`, name: `app-${String(i).padStart(2, '0')}`, desired: 2, ready: i === 0 ? 1 : 2, updated: 2,
    }));
    const pods: KubePodView[] = Array.from({ length: 54 }, (_, i) => {
      const w = workloads[i % 35];
      return {
        namespace: w.namespace, name: `${w.name}-7d9f8-${i}`, phase: i === 0 ? 'Pending' : 'Running', ready: i !== 0, restarts: 0,
        nodeName: i === 0 ? undefined : nodes[i % 29].name, workload: `${w.kind}/${w.name}`, cpuRequestMilli: 250, memoryRequestMiB: 512,
        reason: i === 3 ? 'CrashLoopBackOff' : undefined,
      };
    });
    views.push({ name, kubernetesCalls: 5, skippedObjects: 0, workloads, pods, nodes });
  }
  return views;
}
