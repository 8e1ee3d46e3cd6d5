// Pure view logic of the dashboard: problems, filters and the views as a tree of virtual nodes.
// No DOM access here, so jest tests it directly; main.ts turns the nodes into DOM elements with
// createElement and text nodes only (never innerHTML), so nothing read from AWS is parsed as HTML.
import type {
  ClusterView, ContainerInstanceView, EksClusterView, KubeNodeView, KubePodView, KubeWorkloadView, ServiceView, Snapshot, TaskView,
} from '../../handlers/panopticon-api/snapshot';

export type { ClusterView, ContainerInstanceView, EksClusterView, KubeNodeView, KubePodView, KubeWorkloadView, ServiceView, Snapshot, TaskView };

/** An element to create: tag, attributes (set with setAttribute) and children (strings become text nodes). */
export interface VNode {
  readonly tag: string;
  readonly attrs: Record<string, string>;
  readonly children: Child[];
}
export type Child = VNode | string;

/** Builds a VNode; false/undefined children and attributes are dropped. */
export function h(tag: string, attrs: Record<string, string | false | undefined> = {}, ...children: (Child | false | undefined | Child[])[]): VNode {
  const a: Record<string, string> = {};
  for (const [k, v] of Object.entries(attrs)) if (v !== false && v !== undefined) a[k] = v;
  const kids: Child[] = [];
  for (const c of children) {
    if (c === false || c === undefined) continue;
    if (Array.isArray(c)) kids.push(...c); else kids.push(c);
  }
  return { tag, attrs: a, children: kids };
}

/** Above this many services (after filtering) services render collapsed unless opened or in trouble. */
export const COLLAPSE_ABOVE_SERVICES = 60;

export interface Filters {
  /** Cluster name, or '' for all. */
  readonly cluster: string;
  /** Substring of the service name (case-insensitive), or '' for all. */
  readonly service: string;
  readonly problemsOnly: boolean;
}

export const NO_FILTERS: Filters = { cluster: '', service: '', problemsOnly: false };

export function taskProblems(t: TaskView, instance?: ContainerInstanceView): string[] {
  const out: string[] = [];
  if (t.health === 'UNHEALTHY') out.push('unhealthy');
  if (t.lastStatus === 'PENDING' || t.lastStatus === 'PROVISIONING' || t.lastStatus === 'ACTIVATING') out.push(t.lastStatus.toLowerCase());
  if (t.desiredStatus === 'STOPPED' && t.lastStatus !== 'STOPPED') out.push('stopping');
  if (instance && instance.status === 'DRAINING') out.push('on a draining instance');
  return out;
}

export function instanceProblems(i: ContainerInstanceView): string[] {
  const out: string[] = [];
  if (i.status === 'DRAINING') out.push('draining');
  else if (i.status !== 'ACTIVE') out.push(i.status.toLowerCase());
  if (!i.agentConnected) out.push('agent disconnected');
  return out;
}

export function serviceProblems(s: ServiceView, tasks: readonly TaskView[]): string[] {
  const out: string[] = [];
  if (s.running !== s.desired) out.push(`running ${s.running} of ${s.desired}`);
  if (s.pending > 0) out.push(`${s.pending} pending`);
  if (s.deployments.length > 1) out.push(`${s.deployments.length} deployments`);
  if (s.deployments.some((d) => d.rolloutState === 'FAILED')) out.push('rollout failed');
  const unhealthy = tasks.filter((t) => t.health === 'UNHEALTHY').length;
  if (unhealthy > 0) out.push(`${unhealthy} unhealthy task${unhealthy > 1 ? 's' : ''}`);
  return out;
}

interface ClusterIndex {
  readonly tasksByService: Map<string, TaskView[]>;
  readonly standaloneTasks: TaskView[];
  readonly instances: Map<string, ContainerInstanceView>;
}

function indexCluster(c: ClusterView): ClusterIndex {
  const tasksByService = new Map<string, TaskView[]>();
  const standaloneTasks: TaskView[] = [];
  for (const t of c.tasks) {
    if (t.service) {
      const list = tasksByService.get(t.service);
      if (list) list.push(t); else tasksByService.set(t.service, [t]);
    } else {
      standaloneTasks.push(t);
    }
  }
  return { tasksByService, standaloneTasks, instances: new Map(c.containerInstances.map((i) => [i.arn, i])) };
}

export interface Summary {
  readonly clusters: number;
  readonly services: number;
  readonly tasks: number;
  readonly containerInstances: number;
  readonly problemServices: number;
  readonly drainingInstances: number;
}

export function summarize(snapshot: Snapshot): Summary {
  let services = 0, tasks = 0, containerInstances = 0, problemServices = 0, drainingInstances = 0;
  for (const c of snapshot.clusters) {
    const idx = indexCluster(c);
    services += c.services.length;
    tasks += c.tasks.length;
    containerInstances += c.containerInstances.length;
    problemServices += c.services.filter((s) => serviceProblems(s, idx.tasksByService.get(s.name) ?? []).length > 0).length;
    drainingInstances += c.containerInstances.filter((i) => i.status === 'DRAINING').length;
  }
  return { clusters: snapshot.clusters.length, services, tasks, containerInstances, problemServices, drainingInstances };
}

/** Services grouped by their `pr-number` tag (per-PR environments), ordered by PR number. */
export function pullRequestGroups(snapshot: Snapshot): { pr: string; services: { cluster: string; service: ServiceView }[] }[] {
  const groups = new Map<string, { cluster: string; service: ServiceView }[]>();
  for (const c of snapshot.clusters) {
    for (const s of c.services) {
      const pr = s.tags['pr-number'] ?? c.tags['pr-number'];
      if (!pr) continue;
      const list = groups.get(pr);
      if (list) list.push({ cluster: c.name, service: s }); else groups.set(pr, [{ cluster: c.name, service: s }]);
    }
  }
  return [...groups.entries()].sort((a, b) => Number(a[0]) - Number(b[0]) || a[0].localeCompare(b[0])).map(([pr, services]) => ({ pr, services }));
}

const badge = (problems: string[]): VNode[] => problems.map((p) => h('span', { class: 'problem' }, p));
const cls = (base: string, bad: boolean): string => (bad ? `${base} bad` : base);
const shortId = (arn: string): string => arn.slice(arn.lastIndexOf('/') + 1);

/** Console deep links (https only; main.ts refuses any other scheme). */
export function ecsServiceConsoleUrl(region: string, cluster: string, service: string): string {
  return `https://${region}.console.aws.amazon.com/ecs/v2/clusters/${encodeURIComponent(cluster)}/services/${encodeURIComponent(service)}/health?region=${region}`;
}
export function logGroupsConsoleUrl(region: string, filter: string): string {
  return `https://${region}.console.aws.amazon.com/cloudwatch/home?region=${region}#logsV2:log-groups$3FlogGroupNameFilter$3D${encodeURIComponent(filter)}`;
}

function instanceNode(i: ContainerInstanceView | undefined, arn: string | undefined): VNode {
  if (!i) return h('span', { class: 'ci' }, arn ? `instance ${shortId(arn)}` : 'Fargate');
  const problems = instanceProblems(i);
  return h('span', { class: cls('ci', problems.length > 0), title: i.arn }, `${i.ec2InstanceId ?? i.id} `,
    h('small', {}, `${i.status} · cpu ${i.remaining.cpu}/${i.registered.cpu} · mem ${i.remaining.memory}/${i.registered.memory} MiB free`), badge(problems));
}

function taskNode(t: TaskView, idx: ClusterIndex): VNode {
  const instance = t.containerInstanceArn ? idx.instances.get(t.containerInstanceArn) : undefined;
  const problems = taskProblems(t, instance);
  return h('li', { 'class': cls('task', problems.length > 0), 'data-task': t.id }, h('span', { class: 'kind' }, 'task'), ` ${t.id.slice(0, 12)} `,
    h('small', {}, `${t.lastStatus} · health ${t.health}${t.startedAt ? ` · started ${t.startedAt.slice(0, 19).replace('T', ' ')}` : ''}`),
    badge(problems), ' → ', instanceNode(instance, t.containerInstanceArn));
}

/** The ECS tree: cluster → service → task → container instance. */
export function renderTree(snapshot: Snapshot, filters: Filters, opened: ReadonlySet<string>): VNode[] {
  const needle = filters.service.trim().toLowerCase();
  const region = snapshot.region;
  const clusters = snapshot.clusters.filter((c) => !filters.cluster || c.name === filters.cluster);
  const visibleServices = clusters.reduce((n, c) => n + c.services.filter((s) => !needle || s.name.toLowerCase().includes(needle)).length, 0);
  const collapse = visibleServices > COLLAPSE_ABOVE_SERVICES;
  const parts: VNode[] = [];
  for (const c of clusters) {
    const idx = indexCluster(c);
    const serviceParts: VNode[] = [];
    for (const s of c.services) {
      if (needle && !s.name.toLowerCase().includes(needle)) continue;
      const tasks = idx.tasksByService.get(s.name) ?? [];
      const problems = serviceProblems(s, tasks);
      if (filters.problemsOnly && problems.length === 0) continue;
      const key = `svc:${s.arn}`;
      const open = opened.has(key) || !collapse;
      const pr = s.tags['pr-number'];
      serviceParts.push(h('li', {}, h('details', { 'class': cls('service', problems.length > 0), 'data-key': key, 'data-service': s.name, 'open': open ? '' : undefined },
        h('summary', {}, h('span', { class: 'kind' }, 'service'), ' ', h('b', {}, s.name), ' ',
          h('small', {}, `${s.running}/${s.desired} running${s.pending ? `, ${s.pending} pending` : ''}${pr ? ` · PR #${pr}` : ''}`),
          badge(problems),
          region && h('a', { class: 'link', href: ecsServiceConsoleUrl(region, c.name, s.name), target: '_blank', rel: 'noopener' }, 'console'),
          region && h('a', { class: 'link', href: logGroupsConsoleUrl(region, s.name), target: '_blank', rel: 'noopener' }, 'logs')),
        s.events.length > 0 && h('ul', { class: 'events' }, s.events.map((e) => h('li', {}, h('small', {}, `${(e.createdAt ?? '').slice(0, 19).replace('T', ' ')} ${e.message}`)))),
        h('ul', {}, tasks.length ? tasks.map((t) => taskNode(t, idx)) : [h('li', { class: 'empty' }, 'no tasks')]))));
    }
    if (needle && serviceParts.length === 0) continue;
    const standalone = needle || filters.problemsOnly ? [] : idx.standaloneTasks.map((t) => taskNode(t, idx));
    const instancesKey = `ci:${c.arn}`;
    const draining = c.containerInstances.filter((i) => i.status === 'DRAINING').length;
    parts.push(h('section', { 'class': 'cluster', 'data-cluster': c.name },
      h('h2', {}, h('span', { class: 'kind' }, 'cluster'), ` ${c.name} `,
        h('small', {}, `${c.services.length} services · ${c.tasks.length} tasks · ${c.containerInstances.length} instances`, draining > 0 && ' · ', draining > 0 && h('span', { class: 'problem' }, `${draining} draining`))),
      h('ul', { class: 'services' }, serviceParts.length ? serviceParts : [h('li', { class: 'empty' }, 'no matching services')]),
      standalone.length > 0 && h('details', { class: 'standalone' }, h('summary', {}, 'standalone tasks'), h('ul', {}, standalone)),
      c.containerInstances.length > 0 && h('details', { 'class': 'instances', 'data-key': instancesKey, 'open': opened.has(instancesKey) ? '' : undefined },
        h('summary', {}, `container instances (${c.containerInstances.length})`),
        h('ul', {}, c.containerInstances.map((i) => h('li', {}, instanceNode(i, i.arn)))))));
  }
  return parts.length ? parts : [h('p', { class: 'empty' }, 'No clusters match.')];
}

// --- EKS

export function workloadProblems(w: KubeWorkloadView, pods: readonly KubePodView[]): string[] {
  const out: string[] = [];
  if (w.ready !== w.desired) out.push(`ready ${w.ready} of ${w.desired}`);
  const pending = pods.filter((p) => p.phase === 'Pending').length;
  if (pending > 0) out.push(`${pending} pending`);
  return out;
}

export function podProblems(p: KubePodView, node?: KubeNodeView): string[] {
  const out: string[] = [];
  if (p.phase === 'Pending') out.push('pending');
  else if (p.phase !== 'Running' && p.phase !== 'Succeeded') out.push(p.phase.toLowerCase());
  if (p.phase === 'Running' && !p.ready) out.push('not ready');
  if (p.reason) out.push(p.reason);
  if (node && !node.ready) out.push('on a not-ready node');
  return out;
}

export function nodeProblems(n: KubeNodeView): string[] {
  const out: string[] = [];
  if (!n.ready) out.push('not ready');
  if (n.unschedulable) out.push('cordoned');
  return out;
}

/** Per EKS cluster: namespace → workload → pod → node. */
export function renderEksTree(snapshot: Snapshot, filters: Filters, opened: ReadonlySet<string>): VNode[] {
  const needle = filters.service.trim().toLowerCase();
  const out: VNode[] = [];
  for (const c of snapshot.eks ?? []) {
    if (filters.cluster && filters.cluster !== c.name) continue;
    if (c.error) {
      out.push(h('section', { 'class': 'cluster eks bad', 'data-eks': c.name }, h('h2', {}, h('span', { class: 'kind' }, 'EKS'), ` ${c.name} `), h('span', { class: 'problem' }, `unreadable: ${c.error}`)));
      continue;
    }
    const nodes = new Map(c.nodes.map((n) => [n.name, n]));
    const podsByWorkload = new Map<string, KubePodView[]>();
    for (const p of c.pods) {
      const key = `${p.namespace}/${p.workload ?? `Pod/${p.name}`}`;
      const list = podsByWorkload.get(key);
      if (list) list.push(p); else podsByWorkload.set(key, [p]);
    }
    const namespaces = [...new Set([...c.workloads.map((w) => w.namespace), ...c.pods.map((p) => p.namespace)])].sort();
    const nsParts: VNode[] = [];
    for (const ns of namespaces) {
      const workloads = c.workloads.filter((w) => w.namespace === ns && (!needle || w.name.toLowerCase().includes(needle)));
      const wParts: VNode[] = [];
      for (const w of workloads) {
        const pods = podsByWorkload.get(`${ns}/${w.kind}/${w.name}`) ?? [];
        const problems = workloadProblems(w, pods);
        if (filters.problemsOnly && problems.length === 0) continue;
        const key = `wl:${c.name}/${ns}/${w.kind}/${w.name}`;
        wParts.push(h('li', {}, h('details', { 'class': cls('service', problems.length > 0), 'data-key': key, 'data-workload': `${ns}/${w.name}`, 'open': opened.has(key) || problems.length > 0 ? '' : undefined },
          h('summary', {}, h('span', { class: 'kind' }, w.kind), ' ', h('b', {}, w.name), ' ', h('small', {}, `${w.ready}/${w.desired} ready`), badge(problems)),
          h('ul', {}, pods.length ? pods.map((p) => {
            const node = p.nodeName ? nodes.get(p.nodeName) : undefined;
            const pp = podProblems(p, node);
            return h('li', { 'class': cls('task', pp.length > 0), 'data-pod': p.name }, h('span', { class: 'kind' }, 'pod'), ` ${p.name} `,
              h('small', {}, `${p.phase}${p.restarts ? ` · ${p.restarts} restarts` : ''}`), badge(pp), ' → ',
              h('span', { class: cls('ci', node ? nodeProblems(node).length > 0 : false) }, p.nodeName ?? 'unscheduled'));
          }) : [h('li', { class: 'empty' }, 'no pods')]))));
      }
      if (wParts.length === 0) continue;
      nsParts.push(h('li', { 'data-namespace': ns }, h('span', { class: 'kind' }, 'namespace'), ` ${ns}`, h('ul', {}, wParts)));
    }
    const notReady = c.nodes.filter((n) => !n.ready).length;
    out.push(h('section', { 'class': 'cluster eks', 'data-eks': c.name },
      h('h2', {}, h('span', { class: 'kind' }, 'EKS'), ` ${c.name} `,
        h('small', {}, `${namespaces.length} namespaces · ${c.workloads.length} workloads · ${c.pods.length} pods · ${c.nodes.length} nodes · ${c.kubernetesCalls} Kubernetes calls`),
        notReady > 0 && h('span', { class: 'problem' }, `${notReady} node${notReady > 1 ? 's' : ''} not ready`),
        c.nodesUnavailable !== undefined && h('span', { class: 'note' }, 'node capacity not readable with a view-only access entry')),
      h('ul', { class: 'services' }, nsParts.length ? nsParts : [h('li', { class: 'empty' }, 'no matching workloads')])));
  }
  return out;
}

// --- host view

const pct = (used: number, total: number): number => (total > 0 ? Math.max(0, Math.min(100, Math.round((used / total) * 100))) : 0);

function bar(label: string, used: number, total: number, unit: string): VNode {
  const p = pct(used, total);
  return h('div', { 'class': 'bar', 'title': `${label} reserved ${used} of ${total} ${unit}` },
    h('span', { class: 'bar-label' }, `${label} ${p}%`),
    h('span', { 'class': cls('bar-fill', p >= 90), 'data-fill': String(p) }));
}

/** Every container instance and node as a box: CPU and memory reservation bars, its tasks/pods inside. */
export function renderHosts(snapshot: Snapshot, filters: Filters): VNode[] {
  const out: VNode[] = [];
  for (const c of snapshot.clusters) {
    if (filters.cluster && filters.cluster !== c.name) continue;
    const idx = indexCluster(c);
    const byInstance = new Map<string, TaskView[]>();
    const fargate: TaskView[] = [];
    for (const t of c.tasks) {
      if (!t.containerInstanceArn) { fargate.push(t); continue; }
      const list = byInstance.get(t.containerInstanceArn);
      if (list) list.push(t); else byInstance.set(t.containerInstanceArn, [t]);
    }
    const chip = (t: TaskView) => {
      const instance = t.containerInstanceArn ? idx.instances.get(t.containerInstanceArn) : undefined;
      const bad = taskProblems(t, instance).length > 0;
      return h('span', { 'class': cls('chip', bad), 'title': `${t.service ?? t.group ?? 'task'} ${t.id}`, 'data-task': t.id }, t.service ?? t.id.slice(0, 8));
    };
    const boxes = c.containerInstances.map((i) => {
      const problems = instanceProblems(i);
      return h('div', { 'class': cls('host', problems.length > 0), 'data-host': i.ec2InstanceId ?? i.id },
        h('div', { class: 'host-name' }, i.ec2InstanceId ?? i.id), problems.length > 0 && h('div', {}, badge(problems)),
        bar('cpu', i.registered.cpu - i.remaining.cpu, i.registered.cpu, 'CPU units'),
        bar('mem', i.registered.memory - i.remaining.memory, i.registered.memory, 'MiB'),
        h('div', { class: 'chips' }, (byInstance.get(i.arn) ?? []).map(chip)));
    });
    if (fargate.length) boxes.push(h('div', { 'class': 'host fargate', 'data-host': `fargate:${c.name}` }, h('div', { class: 'host-name' }, `Fargate (${fargate.length} tasks)`), h('div', { class: 'chips' }, fargate.map(chip))));
    if (boxes.length) out.push(h('section', { 'class': 'hosts', 'data-hosts': c.name }, h('h2', {}, h('span', { class: 'kind' }, 'ECS'), ` ${c.name}`), h('div', { class: 'host-grid' }, boxes)));
  }
  for (const c of snapshot.eks ?? []) {
    if (c.error || (filters.cluster && filters.cluster !== c.name)) continue;
    const byNode = new Map<string, KubePodView[]>();
    for (const p of c.pods) {
      const key = p.nodeName ?? '';
      const list = byNode.get(key);
      if (list) list.push(p); else byNode.set(key, [p]);
    }
    const known = new Map(c.nodes.map((n) => [n.name, n]));
    const names = [...new Set([...c.nodes.map((n) => n.name), ...[...byNode.keys()].filter((k) => k)])].sort();
    const boxes = names.map((name) => {
      const n = known.get(name);
      const pods = byNode.get(name) ?? [];
      const problems = n ? nodeProblems(n) : [];
      const cpu = pods.reduce((s, p) => s + p.cpuRequestMilli, 0);
      const mem = pods.reduce((s, p) => s + p.memoryRequestMiB, 0);
      return h('div', { 'class': cls('host', problems.length > 0), 'data-host': name },
        h('div', { class: 'host-name' }, name, n?.instanceType ? h('small', {}, ` ${n.instanceType}`) : undefined), problems.length > 0 && h('div', {}, badge(problems)),
        n ? bar('cpu', cpu, n.allocatable.cpuMilli, 'millicores requested') : h('small', {}, 'capacity unknown'),
        n && bar('mem', mem, n.allocatable.memoryMiB, 'MiB requested'),
        h('div', { class: 'chips' }, pods.map((p) => h('span', { 'class': cls('chip', podProblems(p, n).length > 0), 'title': `${p.namespace}/${p.name}`, 'data-pod': p.name },
          (p.workload ?? p.name).replace(/^[A-Za-z]+\//, '')))));
    });
    const pending = byNode.get('') ?? [];
    if (pending.length) boxes.push(h('div', { 'class': 'host bad', 'data-host': `unscheduled:${c.name}` }, h('div', { class: 'host-name' }, `unscheduled (${pending.length} pods)`),
      h('div', { class: 'chips' }, pending.map((p) => h('span', { 'class': 'chip bad', 'title': `${p.namespace}/${p.name}`, 'data-pod': p.name }, p.name)))));
    out.push(h('section', { 'class': 'hosts', 'data-hosts': c.name }, h('h2', {}, h('span', { class: 'kind' }, 'EKS'), ` ${c.name}`), h('div', { class: 'host-grid' }, boxes)));
  }
  return out.length ? out : [h('p', { class: 'empty' }, 'No hosts match.')];
}

// --- pull-request environments

export interface PullRequestStatus {
  readonly pr: string;
  readonly exists: boolean;
  readonly cluster?: string;
  readonly deployed: string[];
  readonly shared: string[];
  readonly url?: string;
  readonly healthy: boolean;
  readonly services: { cluster: string; service: ServiceView }[];
}

/** One status per `pr-number`: the PR cluster's tags say which modules are deployed or shared and where it is reached. */
export function pullRequestStatuses(snapshot: Snapshot): PullRequestStatus[] {
  return pullRequestGroups(snapshot).map((g) => {
    const cluster = snapshot.clusters.find((c) => c.tags['pr-number'] === g.pr);
    const words = (v?: string) => (v ? v.split(' ').filter((w) => w) : []);
    const url = cluster?.tags['pr-url'];
    const deployed = cluster ? words(cluster.tags['pr-modules']) : [];
    const running = new Set(g.services.filter((x) => x.service.desired > 0 && x.service.running === x.service.desired).map((x) => x.service.name));
    const healthy = g.services.length > 0 && g.services.every((x) => serviceProblems(x.service, []).length === 0)
      && deployed.every((m) => [...running].some((name) => name.endsWith(`-${m}`)));
    return {
      pr: g.pr, exists: g.services.length > 0, cluster: cluster?.name, deployed, shared: cluster ? words(cluster.tags['pr-shared-modules']) : [],
      url: url && /^https?:\/\//.test(url) ? url : undefined, healthy, services: g.services,
    };
  });
}

/** The per-PR environment overview: exists, deployed and shared modules, health, link. */
export function renderPullRequests(snapshot: Snapshot): VNode[] {
  const statuses = pullRequestStatuses(snapshot);
  if (statuses.length === 0) return [];
  return [h('h2', {}, 'Pull-request environments'), h('ul', { class: 'prs' }, statuses.map((s) => {
    const bad = s.services.filter((x) => serviceProblems(x.service, []).length > 0).length;
    return h('li', { 'class': cls('pr', !s.healthy), 'data-pr': s.pr },
      h('b', {}, `PR #${s.pr}`), ' ',
      h('span', { class: s.healthy ? 'ok' : 'problem' }, s.healthy ? 'healthy' : `${bad || 'not all'} service${bad === 1 ? '' : 's'} with problems`), ' ',
      s.url !== undefined && h('a', { class: 'link', href: s.url, target: '_blank', rel: 'noopener' }, s.url), ' ',
      h('small', {}, `deployed: ${s.deployed.join(', ') || s.services.map((x) => x.service.name).join(', ')}`),
      s.shared.length > 0 && h('small', {}, ` · shared: ${s.shared.join(', ')}`),
      h('div', {}, h('small', {}, s.services.map((x) => `${x.service.name} (${x.service.running}/${x.service.desired})`).join(', '))));
  }))];
}
