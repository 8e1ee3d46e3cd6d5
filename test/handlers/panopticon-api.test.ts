import { ECSClient, ECSClientConfig } from '@aws-sdk/client-ecs';
import { handleApiEvent } from '../../handlers/panopticon-api/api';
import { ClusterCounts, EVENTS_PER_SERVICE, minimumEcsCalls, Snapshot, SnapshotCache, takeSnapshot } from '../../handlers/panopticon-api/snapshot';
import { MotoServer, startMoto } from '../support/moto';
import { SeededHierarchy, seedHierarchy, talkScale } from '../panopticon/seed';

/** An ECS client whose calls are counted by command name through SDK middleware. */
function countingClient(config: ECSClientConfig): { ecs: ECSClient; calls: string[] } {
  const ecs = new ECSClient(config);
  const calls: string[] = [];
  ecs.middlewareStack.add((next, context) => async (args) => {
    calls.push(String(context.commandName));
    return next(args);
  }, { step: 'initialize', name: 'countCalls' });
  return { ecs, calls };
}

describe('panopticon API against moto at the talk scale (35 services, 54 tasks, 29 instances)', () => {
  let moto: MotoServer;
  let seeded: SeededHierarchy;
  let snapshot: Snapshot;
  let calls: string[];

  beforeAll(async () => {
    moto = await startMoto();
    seeded = await seedHierarchy(new ECSClient(moto.clientConfig), talkScale(1), moto.endpoint);
    const client = countingClient(moto.clientConfig);
    calls = client.calls;
    snapshot = await takeSnapshot(client.ecs);
  });
  afterAll(async () => moto?.stop());

  test('the seed has the talk scale', () => {
    expect(seeded.totals).toEqual({ services: 35, tasks: 54, containerInstances: 29 });
  });

  test('every seeded cluster, service, task and container instance appears', () => {
    expect(snapshot.clusters.map((c) => c.name)).toEqual(seeded.clusters.map((c) => c.name).sort());
    for (const c of seeded.clusters) {
      const view = snapshot.clusters.find((v) => v.name === c.name)!;
      expect(view.services.map((s) => s.name)).toEqual([...c.services].sort());
      expect(view.tasks).toHaveLength(c.tasks);
      expect(view.containerInstances).toHaveLength(c.containerInstances);
    }
  });

  test('tasks are attached to their service and container instance', () => {
    const cluster = snapshot.clusters.find((c) => c.name === 'hrmos-production')!;
    const instanceArns = new Set(cluster.containerInstances.map((i) => i.arn));
    const serviceNames = new Set(cluster.services.map((s) => s.name));
    for (const t of cluster.tasks) {
      expect(serviceNames.has(t.service!)).toBe(true);
      expect(instanceArns.has(t.containerInstanceArn!)).toBe(true);
    }
  });

  test('a lagging service, a draining instance and pr-number tags are reported', () => {
    const staging = snapshot.clusters.find((c) => c.name === 'hrmos-staging')!;
    const lagging = staging.services.find((s) => s.name === seeded.laggingServices[0])!;
    expect(lagging.running).toBeLessThan(lagging.desired);
    expect(staging.containerInstances.filter((i) => i.status === 'DRAINING')).toHaveLength(1);
    const prs = snapshot.clusters.find((c) => c.name === 'hrmos-pull-requests')!;
    expect(prs.services.map((s) => s.tags['pr-number']).sort()).toEqual(['101', '101', '102', '102']);
    expect(staging.containerInstances[0].registered.cpu).toBeGreaterThan(0);
  });

  test('the number of ECS calls equals the minimum for the hierarchy', () => {
    const counts: ClusterCounts[] = seeded.clusters.map((c) => ({ services: c.services.length, tasks: c.tasks, containerInstances: c.containerInstances }));
    // 1 ListClusters + 1 DescribeClusters + per cluster: ListServices, ceil(S/10) DescribeServices,
    // ListTasks, DescribeTasks, ListContainerInstances, DescribeContainerInstances.
    // = 2 + 4 * 5 + (2 + 1 + 1 + 1)
    expect(minimumEcsCalls(counts)).toBe(27);
    expect(calls).toHaveLength(minimumEcsCalls(counts));
    expect(snapshot.ecsCalls).toBe(calls.length);
    expect(calls.filter((c) => c === 'DescribeServicesCommand')).toHaveLength(2 + 1 + 1 + 1);
  });

  test('only read-only ECS actions are called', () => {
    expect(new Set(calls.map((c) => c.replace(/Command$/, '').replace(/^(List|Describe).*/, '$1')))).toEqual(new Set(['List', 'Describe']));
  });
});

/** A fake ECS that pages List* results by maxResults and checks batch limits, as the real API does. */
function pagingFake(clusters: { name: string; services: number; tasks: number; instances: number }[]) {
  const calls: string[] = [];
  const page = (items: string[], input: { maxResults?: number; nextToken?: string }) => {
    const start = Number(input.nextToken ?? '0');
    const end = start + (input.maxResults ?? 10);
    return { items: items.slice(start, end), nextToken: end < items.length ? String(end) : undefined };
  };
  const arns = (kind: string, c: string, n: number) => Array.from({ length: n }, (_, i) => `arn:aws:ecs:us-east-1:123456789012:${kind}/${c}/${kind}-${String(i).padStart(4, '0')}`);
  const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
    const name = command.constructor.name;
    calls.push(name);
    const input = command.input as { cluster?: string; maxResults?: number; nextToken?: string; services?: string[]; tasks?: string[]; containerInstances?: string[]; clusters?: string[] };
    const c = clusters.find((x) => input.cluster === `arn:aws:ecs:us-east-1:123456789012:cluster/${x.name}`);
    const limit = (batch: unknown[] | undefined, max: number) => { if (!batch || batch.length > max || batch.length === 0) throw new Error(`${name} batch of ${batch?.length} breaks the limit ${max}`); };
    switch (name) {
      case 'ListClustersCommand': { const p = page(clusters.map((x) => `arn:aws:ecs:us-east-1:123456789012:cluster/${x.name}`), input); return { clusterArns: p.items, nextToken: p.nextToken }; }
      case 'DescribeClustersCommand': limit(input.clusters, 100); return { clusters: input.clusters!.map((a) => ({ clusterArn: a, clusterName: a.split('/')[1], status: 'ACTIVE' })) };
      case 'ListServicesCommand': { const p = page(arns('service', c!.name, c!.services), input); return { serviceArns: p.items, nextToken: p.nextToken }; }
      case 'DescribeServicesCommand': limit(input.services, 10); return { services: input.services!.map((a) => ({ serviceArn: a, serviceName: a.split('/')[2], desiredCount: 1, runningCount: 1, events: Array.from({ length: 9 }, (_, i) => ({ message: `event ${i}` })) })) };
      case 'ListTasksCommand': { const p = page(arns('task', c!.name, c!.tasks), input); return { taskArns: p.items, nextToken: p.nextToken }; }
      case 'DescribeTasksCommand': limit(input.tasks, 100); return { tasks: input.tasks!.map((a) => ({ taskArn: a, lastStatus: 'RUNNING' })) };
      case 'ListContainerInstancesCommand': { const p = page(arns('container-instance', c!.name, c!.instances), input); return { containerInstanceArns: p.items, nextToken: p.nextToken }; }
      case 'DescribeContainerInstancesCommand': limit(input.containerInstances, 100); return { containerInstances: input.containerInstances!.map((a) => ({ containerInstanceArn: a, status: 'ACTIVE' })) };
      default: throw new Error(`unexpected ${name}`);
    }
  };
  return { ecs: { send } as unknown as ECSClient, calls };
}

describe('panopticon snapshot pagination beyond one page', () => {
  const shape = [
    { name: 'big', services: 250, tasks: 230, instances: 150 },
    { name: 'empty', services: 0, tasks: 0, instances: 0 },
  ];

  test('reads every object of a cluster larger than one page with the minimum number of calls', async () => {
    // GIVEN a cluster with more than 100 services, tasks and instances, and an empty one
    const fake = pagingFake(shape);
    // WHEN
    const snapshot = await takeSnapshot(fake.ecs, { concurrency: 3 });
    // THEN
    const big = snapshot.clusters.find((c) => c.name === 'big')!;
    expect([big.services.length, big.tasks.length, big.containerInstances.length]).toEqual([250, 230, 150]);
    const expected = minimumEcsCalls(shape.map((s) => ({ services: s.services, tasks: s.tasks, containerInstances: s.instances })));
    // 1 + 1 + (3 + 25 + 3 + 3 + 2 + 2) + (1 + 0 + 1 + 0 + 1 + 0)
    expect(expected).toBe(43);
    expect(fake.calls).toHaveLength(expected);
  });

  test('keeps only the most recent service events', async () => {
    const snapshot = await takeSnapshot(pagingFake(shape).ecs);
    expect(snapshot.clusters[0].services[0].events).toHaveLength(EVENTS_PER_SERVICE);
  });
});

describe('panopticon API handler', () => {
  const snapshot: Snapshot = { generatedAt: '2026-01-01T00:00:00.000Z', ecsCalls: 2, clusters: [] };

  test('serves a second request within the TTL from the cache', async () => {
    // GIVEN
    let now = 0;
    let loads = 0;
    const cache = new SnapshotCache(10_000, () => now);
    const load = async () => { loads++; return snapshot; };
    // WHEN
    const first = await handleApiEvent({ httpMethod: 'GET' }, { cache, load });
    now = 9_999;
    const second = await handleApiEvent({ httpMethod: 'GET' }, { cache, load });
    // THEN
    expect(loads).toBe(1);
    expect([first.headers['x-panopticon-cache'], second.headers['x-panopticon-cache']]).toEqual(['miss', 'hit']);
    expect(JSON.parse(second.body)).toEqual(snapshot);
  });

  test('reads ECS again once the TTL has passed', async () => {
    let now = 0;
    let loads = 0;
    const cache = new SnapshotCache(10_000, () => now);
    const load = async () => { loads++; return snapshot; };
    await handleApiEvent({ httpMethod: 'GET' }, { cache, load });
    now = 10_000;
    await handleApiEvent({ httpMethod: 'GET' }, { cache, load });
    expect(loads).toBe(2);
  });

  test('shares one ECS read between concurrent requests', async () => {
    let loads = 0;
    const cache = new SnapshotCache(10_000);
    const load = async () => { loads++; await new Promise((r) => setTimeout(r, 20)); return snapshot; };
    await Promise.all([1, 2, 3].map(() => handleApiEvent({ httpMethod: 'GET' }, { cache, load })));
    expect(loads).toBe(1);
  });

  test('answers 502 and logs when ECS fails, without caching the failure', async () => {
    const errors: string[] = [];
    const cache = new SnapshotCache(10_000);
    const res = await handleApiEvent({ httpMethod: 'GET' }, { cache, load: async () => { throw new Error('ThrottlingException'); }, log: { error: (m) => errors.push(m) } });
    expect(res.statusCode).toBe(502);
    expect(errors).toHaveLength(1);
    const ok = await handleApiEvent({ httpMethod: 'GET' }, { cache, load: async () => snapshot });
    expect(ok.statusCode).toBe(200);
  });

  test('answers CORS for the dashboard origin only when one is configured', async () => {
    const cache = new SnapshotCache(0);
    const withOrigin = await handleApiEvent({ httpMethod: 'GET' }, { cache, load: async () => snapshot, allowedOrigin: 'https://d111.cloudfront.net' });
    const without = await handleApiEvent({ httpMethod: 'GET' }, { cache, load: async () => snapshot });
    expect(withOrigin.headers['access-control-allow-origin']).toBe('https://d111.cloudfront.net');
    expect(without.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('refuses methods other than GET', async () => {
    const res = await handleApiEvent({ httpMethod: 'DELETE' }, { cache: new SnapshotCache(0), load: async () => snapshot });
    expect(res.statusCode).toBe(405);
  });
});
