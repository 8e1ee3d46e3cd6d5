import {
  Cluster,
  ContainerInstance,
  DescribeClustersCommand,
  DescribeContainerInstancesCommand,
  DescribeServicesCommand,
  DescribeTasksCommand,
  ListClustersCommand,
  ListContainerInstancesCommand,
  ListServicesCommand,
  ListTasksCommand,
  Service,
  Task,
} from '@aws-sdk/client-ecs';
import type { EksClusterView } from './kubernetes';

export type { EksClusterView, KubeNodeView, KubePodView, KubeWorkloadView } from './kubernetes';

/** The page sizes the ECS API allows; using the largest makes the fewest calls. */
export const ECS_LIMITS = {
  listClusters: 100,
  describeClusters: 100,
  listServices: 100,
  describeServices: 10,
  listTasks: 100,
  describeTasks: 100,
  listContainerInstances: 100,
  describeContainerInstances: 100,
} as const;

/** How many recent service events the snapshot keeps per service (ECS returns up to 100). */
export const EVENTS_PER_SERVICE = 5;

export type Tags = Record<string, string>;

export interface DeploymentView {
  readonly id: string;
  readonly status: string;
  readonly rolloutState?: string;
  readonly taskDefinition?: string;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly updatedAt?: string;
}

export interface ServiceView {
  readonly arn: string;
  readonly name: string;
  readonly status: string;
  readonly desired: number;
  readonly running: number;
  readonly pending: number;
  readonly launchType?: string;
  readonly capacityProviders: string[];
  readonly taskDefinition?: string;
  readonly tags: Tags;
  readonly deployments: DeploymentView[];
  readonly events: { readonly createdAt?: string; readonly message: string }[];
}

export interface TaskView {
  readonly arn: string;
  readonly id: string;
  /** Service name when the task belongs to a service (its `group` is `service:<name>`). */
  readonly service?: string;
  readonly group?: string;
  readonly lastStatus: string;
  readonly desiredStatus: string;
  readonly health: string;
  readonly containerInstanceArn?: string;
  readonly startedAt?: string;
  readonly launchType?: string;
  readonly capacityProvider?: string;
  readonly taskDefinition?: string;
}

export interface ResourcesView {
  readonly cpu: number;
  readonly memory: number;
}

export interface ContainerInstanceView {
  readonly arn: string;
  readonly id: string;
  readonly ec2InstanceId?: string;
  readonly status: string;
  readonly agentConnected: boolean;
  readonly runningTasks: number;
  readonly pendingTasks: number;
  readonly registered: ResourcesView;
  readonly remaining: ResourcesView;
}

export interface ClusterView {
  readonly arn: string;
  readonly name: string;
  readonly status: string;
  readonly tags: Tags;
  readonly services: ServiceView[];
  readonly tasks: TaskView[];
  readonly containerInstances: ContainerInstanceView[];
}

export interface Snapshot {
  readonly generatedAt: string;
  /** ECS API calls this snapshot took (the minimum for its hierarchy, see {@link minimumEcsCalls}). */
  readonly ecsCalls: number;
  readonly clusters: ClusterView[];
  /** Registered EKS clusters (`Panopticon.addEksCluster`), when any. */
  readonly eks?: EksClusterView[];
  /** Kubernetes API calls this snapshot took, over all EKS clusters. */
  readonly kubernetesCalls?: number;
  /** Account and region, for console deep links. */
  readonly region?: string;
}

/** Object counts of one cluster, enough to know how many ECS calls reading it takes. */
export interface ClusterCounts {
  readonly services: number;
  readonly tasks: number;
  readonly containerInstances: number;
}

const pages = (n: number, size: number): number => Math.ceil(n / size);
/** A List* call always happens once, even for an empty result. */
const listPages = (n: number, size: number): number => Math.max(1, pages(n, size));

/**
 * The fewest ECS calls that can read a hierarchy: every List* is paginated at its maximum page size
 * (one call even when empty), and every Describe* is batched at its maximum batch size (no call when
 * there is nothing to describe).
 */
export function minimumEcsCalls(clusters: readonly ClusterCounts[]): number {
  let calls = listPages(clusters.length, ECS_LIMITS.listClusters) + pages(clusters.length, ECS_LIMITS.describeClusters);
  for (const c of clusters) {
    calls += listPages(c.services, ECS_LIMITS.listServices) + pages(c.services, ECS_LIMITS.describeServices);
    calls += listPages(c.tasks, ECS_LIMITS.listTasks) + pages(c.tasks, ECS_LIMITS.describeTasks);
    calls += listPages(c.containerInstances, ECS_LIMITS.listContainerInstances) + pages(c.containerInstances, ECS_LIMITS.describeContainerInstances);
  }
  return calls;
}

export type EcsReadCommand = ListClustersCommand | DescribeClustersCommand | ListServicesCommand | DescribeServicesCommand
  | ListTasksCommand | DescribeTasksCommand | ListContainerInstancesCommand | DescribeContainerInstancesCommand;

/** The slice of the ECS client the snapshot needs (read-only commands), so tests can inject a fake. */
export interface EcsSender {
  send(command: EcsReadCommand): Promise<unknown>;
}

export interface SnapshotOptions {
  /** Parallel ECS calls at most; ECS throttles bursts per account. @default 8 */
  readonly concurrency?: number;
  readonly now?: () => Date;
}

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Runs async jobs with at most `limit` in flight; resolves in input order. */
export function limiter(limit: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const queue: (() => void)[] = [];
  const next = (): void => {
    if (active >= limit) return;
    const start = queue.shift();
    if (start) { active++; start(); }
  };
  return <T>(job: () => Promise<T>) => new Promise<T>((resolve, reject) => {
    queue.push(() => {
      job().then(resolve, reject).finally(() => { active--; next(); });
    });
    next();
  });
}

async function listAll(fetchPage: (nextToken?: string) => Promise<{ arns?: string[]; nextToken?: string }>): Promise<string[]> {
  const arns: string[] = [];
  let token: string | undefined;
  do {
    const page = await fetchPage(token);
    arns.push(...(page.arns ?? []));
    token = page.nextToken;
  } while (token);
  return arns;
}

const tagsOf = (tags?: { key?: string; value?: string }[]): Tags => {
  const out: Tags = {};
  for (const t of tags ?? []) if (t.key !== undefined) out[t.key] = t.value ?? '';
  return out;
};
const iso = (d?: Date): string | undefined => (d ? new Date(d).toISOString() : undefined);
const lastSegment = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);
const resource = (list: ContainerInstance['registeredResources'], name: string): number =>
  list?.find((r) => r.name === name)?.integerValue ?? 0;

function serviceView(s: Service): ServiceView {
  return {
    arn: s.serviceArn ?? '',
    name: s.serviceName ?? lastSegment(s.serviceArn ?? ''),
    status: s.status ?? 'UNKNOWN',
    desired: s.desiredCount ?? 0,
    running: s.runningCount ?? 0,
    pending: s.pendingCount ?? 0,
    launchType: s.launchType,
    capacityProviders: (s.capacityProviderStrategy ?? []).map((p) => p.capacityProvider ?? '').filter((p) => p),
    taskDefinition: s.taskDefinition,
    tags: tagsOf(s.tags),
    deployments: (s.deployments ?? []).map((d) => ({
      id: d.id ?? '',
      status: d.status ?? 'UNKNOWN',
      rolloutState: d.rolloutState,
      taskDefinition: d.taskDefinition,
      desired: d.desiredCount ?? 0,
      running: d.runningCount ?? 0,
      pending: d.pendingCount ?? 0,
      updatedAt: iso(d.updatedAt),
    })),
    events: (s.events ?? []).slice(0, EVENTS_PER_SERVICE).map((e) => ({ createdAt: iso(e.createdAt), message: e.message ?? '' })),
  };
}

function taskView(t: Task): TaskView {
  const group = t.group;
  return {
    arn: t.taskArn ?? '',
    id: lastSegment(t.taskArn ?? ''),
    service: group?.startsWith('service:') ? group.slice('service:'.length) : undefined,
    group,
    lastStatus: t.lastStatus ?? 'UNKNOWN',
    desiredStatus: t.desiredStatus ?? 'UNKNOWN',
    health: t.healthStatus ?? 'UNKNOWN',
    containerInstanceArn: t.containerInstanceArn,
    startedAt: iso(t.startedAt),
    launchType: t.launchType,
    capacityProvider: t.capacityProviderName,
    taskDefinition: t.taskDefinitionArn,
  };
}

function containerInstanceView(ci: ContainerInstance): ContainerInstanceView {
  return {
    arn: ci.containerInstanceArn ?? '',
    id: lastSegment(ci.containerInstanceArn ?? ''),
    ec2InstanceId: ci.ec2InstanceId,
    status: ci.status ?? 'UNKNOWN',
    agentConnected: ci.agentConnected ?? false,
    runningTasks: ci.runningTasksCount ?? 0,
    pendingTasks: ci.pendingTasksCount ?? 0,
    registered: { cpu: resource(ci.registeredResources, 'CPU'), memory: resource(ci.registeredResources, 'MEMORY') },
    remaining: { cpu: resource(ci.remainingResources, 'CPU'), memory: resource(ci.remainingResources, 'MEMORY') },
  };
}

const byName = <T extends { name: string }>(a: T, b: T): number => a.name.localeCompare(b.name);
const byId = <T extends { id: string }>(a: T, b: T): number => a.id.localeCompare(b.id);

/**
 * Reads the whole ECS hierarchy of the client's account and region with the fewest calls the API
 * allows ({@link minimumEcsCalls}); clusters are read in parallel, bounded by `concurrency`.
 */
export async function takeSnapshot(ecs: EcsSender, options: SnapshotOptions = {}): Promise<Snapshot> {
  const run = limiter(options.concurrency ?? 8);
  let calls = 0;
  const send = <T>(command: EcsReadCommand): Promise<T> => {
    calls++;
    return run(() => ecs.send(command) as Promise<T>);
  };

  const clusterArns = await listAll(async (nextToken) => {
    const r = await send<{ clusterArns?: string[]; nextToken?: string }>(new ListClustersCommand({ maxResults: ECS_LIMITS.listClusters, nextToken }));
    return { arns: r.clusterArns, nextToken: r.nextToken };
  });
  const clusters: Cluster[] = (await Promise.all(chunks(clusterArns, ECS_LIMITS.describeClusters).map((batch) =>
    send<{ clusters?: Cluster[] }>(new DescribeClustersCommand({ clusters: batch, include: ['TAGS'] })).then((r) => r.clusters ?? []),
  ))).flat();

  const views = await Promise.all(clusters.map(async (cluster): Promise<ClusterView> => {
    const clusterArn = cluster.clusterArn ?? '';
    const services = async (): Promise<ServiceView[]> => {
      const arns = await listAll(async (nextToken) => {
        const r = await send<{ serviceArns?: string[]; nextToken?: string }>(new ListServicesCommand({ cluster: clusterArn, maxResults: ECS_LIMITS.listServices, nextToken }));
        return { arns: r.serviceArns, nextToken: r.nextToken };
      });
      const described = await Promise.all(chunks(arns, ECS_LIMITS.describeServices).map((batch) =>
        send<{ services?: Service[] }>(new DescribeServicesCommand({ cluster: clusterArn, services: batch, include: ['TAGS'] })).then((r) => r.services ?? []),
      ));
      return described.flat().map(serviceView).sort(byName);
    };
    const tasks = async (): Promise<TaskView[]> => {
      const arns = await listAll(async (nextToken) => {
        const r = await send<{ taskArns?: string[]; nextToken?: string }>(new ListTasksCommand({ cluster: clusterArn, maxResults: ECS_LIMITS.listTasks, nextToken }));
        return { arns: r.taskArns, nextToken: r.nextToken };
      });
      const described = await Promise.all(chunks(arns, ECS_LIMITS.describeTasks).map((batch) =>
        send<{ tasks?: Task[] }>(new DescribeTasksCommand({ cluster: clusterArn, tasks: batch })).then((r) => r.tasks ?? []),
      ));
      return described.flat().map(taskView).sort(byId);
    };
    const instances = async (): Promise<ContainerInstanceView[]> => {
      const arns = await listAll(async (nextToken) => {
        const r = await send<{ containerInstanceArns?: string[]; nextToken?: string }>(new ListContainerInstancesCommand({ cluster: clusterArn, maxResults: ECS_LIMITS.listContainerInstances, nextToken }));
        return { arns: r.containerInstanceArns, nextToken: r.nextToken };
      });
      const described = await Promise.all(chunks(arns, ECS_LIMITS.describeContainerInstances).map((batch) =>
        send<{ containerInstances?: ContainerInstance[] }>(new DescribeContainerInstancesCommand({ cluster: clusterArn, containerInstances: batch })).then((r) => r.containerInstances ?? []),
      ));
      return described.flat().map(containerInstanceView).sort(byId);
    };
    const [s, t, i] = await Promise.all([services(), tasks(), instances()]);
    return {
      arn: clusterArn,
      name: cluster.clusterName ?? lastSegment(clusterArn),
      status: cluster.status ?? 'UNKNOWN',
      tags: tagsOf(cluster.tags),
      services: s,
      tasks: t,
      containerInstances: i,
    };
  }));

  return { generatedAt: (options.now?.() ?? new Date()).toISOString(), ecsCalls: calls, clusters: views.sort(byName) };
}

/**
 * Keeps the last snapshot for `ttlMs` and shares one in-flight read between concurrent callers, so a
 * room full of open dashboards costs one ECS read per TTL per warm Lambda instance.
 */
export class SnapshotCache {
  private value?: { at: number; snapshot: Snapshot };
  private inflight?: Promise<Snapshot>;

  constructor(private readonly ttlMs: number, private readonly clock: () => number = Date.now) {}

  /** Returns the cached snapshot when fresh, otherwise loads (once) and caches a new one. */
  async get(load: () => Promise<Snapshot>): Promise<{ snapshot: Snapshot; cached: boolean }> {
    if (this.value && this.clock() - this.value.at < this.ttlMs) return { snapshot: this.value.snapshot, cached: true };
    if (!this.inflight) {
      this.inflight = load().then((snapshot) => {
        this.value = { at: this.clock(), snapshot };
        return snapshot;
      }).finally(() => { this.inflight = undefined; });
    }
    return { snapshot: await this.inflight, cached: false };
  }
}
