import type { ClusterView, ServiceView, Snapshot, TaskView } from '../../web/panopticon/model';

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
