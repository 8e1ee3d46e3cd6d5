// Pure view logic of the dashboard: problems, filters and the HTML of the tree. No DOM access here,
// so jest tests it directly and main.ts only wires it to the page.
import type { ClusterView, ContainerInstanceView, ServiceView, Snapshot, TaskView } from '../../handlers/panopticon-api/snapshot';

export type { ClusterView, ContainerInstanceView, ServiceView, Snapshot, TaskView };

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

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c]!));
}

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

const badge = (problems: string[]): string =>
  problems.map((p) => `<span class="problem">${escapeHtml(p)}</span>`).join('');

function instanceHtml(i: ContainerInstanceView | undefined, arn: string | undefined): string {
  if (!i) return arn ? `<span class="ci">instance ${escapeHtml(arn.slice(arn.lastIndexOf('/') + 1))}</span>` : '<span class="ci">Fargate</span>';
  const problems = instanceProblems(i);
  return `<span class="ci${problems.length ? ' bad' : ''}" title="${escapeHtml(i.arn)}">${escapeHtml(i.ec2InstanceId ?? i.id)} `
    + `<small>${i.status} · cpu ${i.remaining.cpu}/${i.registered.cpu} · mem ${i.remaining.memory}/${i.registered.memory} MiB free</small>${badge(problems)}</span>`;
}

function taskHtml(t: TaskView, idx: ClusterIndex): string {
  const instance = t.containerInstanceArn ? idx.instances.get(t.containerInstanceArn) : undefined;
  const problems = taskProblems(t, instance);
  return `<li class="task${problems.length ? ' bad' : ''}" data-task="${escapeHtml(t.id)}"><span class="kind">task</span> ${escapeHtml(t.id.slice(0, 12))} `
    + `<small>${escapeHtml(t.lastStatus)} · health ${escapeHtml(t.health)}${t.startedAt ? ` · started ${escapeHtml(t.startedAt.slice(0, 19).replace('T', ' '))}` : ''}</small>`
    + `${badge(problems)} → ${instanceHtml(instance, t.containerInstanceArn)}</li>`;
}

/** Builds the whole tree as one HTML string: the page sets it with a single innerHTML per refresh. */
export function renderTree(snapshot: Snapshot, filters: Filters, opened: ReadonlySet<string>): string {
  const needle = filters.service.trim().toLowerCase();
  const clusters = snapshot.clusters.filter((c) => !filters.cluster || c.name === filters.cluster);
  const visibleServices = clusters.reduce((n, c) => n + c.services.filter((s) => !needle || s.name.toLowerCase().includes(needle)).length, 0);
  const collapse = visibleServices > COLLAPSE_ABOVE_SERVICES;
  const parts: string[] = [];
  for (const c of clusters) {
    const idx = indexCluster(c);
    const serviceParts: string[] = [];
    for (const s of c.services) {
      if (needle && !s.name.toLowerCase().includes(needle)) continue;
      const tasks = idx.tasksByService.get(s.name) ?? [];
      const problems = serviceProblems(s, tasks);
      if (filters.problemsOnly && problems.length === 0) continue;
      const key = `svc:${s.arn}`;
      const open = opened.has(key) || !collapse;
      const pr = s.tags['pr-number'];
      serviceParts.push(`<li><details class="service${problems.length ? ' bad' : ''}" data-key="${escapeHtml(key)}" data-service="${escapeHtml(s.name)}"${open ? ' open' : ''}>`
        + `<summary><span class="kind">service</span> <b>${escapeHtml(s.name)}</b> <small>${s.running}/${s.desired} running${s.pending ? `, ${s.pending} pending` : ''}`
        + `${pr ? ` · PR #${escapeHtml(pr)}` : ''}</small>${badge(problems)}</summary>`
        + (s.events.length ? `<ul class="events">${s.events.map((e) => `<li><small>${escapeHtml((e.createdAt ?? '').slice(0, 19).replace('T', ' '))} ${escapeHtml(e.message)}</small></li>`).join('')}</ul>` : '')
        + `<ul>${tasks.map((t) => taskHtml(t, idx)).join('') || '<li class="empty">no tasks</li>'}</ul></details></li>`);
    }
    if (needle && serviceParts.length === 0) continue;
    const standalone = needle || filters.problemsOnly ? '' : idx.standaloneTasks.map((t) => taskHtml(t, idx)).join('');
    const instancesKey = `ci:${c.arn}`;
    const draining = c.containerInstances.filter((i) => i.status === 'DRAINING').length;
    parts.push(`<section class="cluster" data-cluster="${escapeHtml(c.name)}"><h2><span class="kind">cluster</span> ${escapeHtml(c.name)} `
      + `<small>${c.services.length} services · ${c.tasks.length} tasks · ${c.containerInstances.length} instances${draining ? ` · <span class="problem">${draining} draining</span>` : ''}</small></h2>`
      + `<ul class="services">${serviceParts.join('') || '<li class="empty">no matching services</li>'}</ul>`
      + (standalone ? `<details class="standalone"><summary>standalone tasks</summary><ul>${standalone}</ul></details>` : '')
      + (c.containerInstances.length ? `<details class="instances" data-key="${escapeHtml(instancesKey)}"${opened.has(instancesKey) ? ' open' : ''}><summary>container instances (${c.containerInstances.length})</summary>`
        + `<ul>${c.containerInstances.map((i) => `<li>${instanceHtml(i, i.arn)}</li>`).join('')}</ul></details>` : '')
      + '</section>');
  }
  return parts.join('') || '<p class="empty">No clusters match.</p>';
}

/** The per-PR environment overview: one row per `pr-number`, with its services and their state. */
export function renderPullRequests(snapshot: Snapshot): string {
  const groups = pullRequestGroups(snapshot);
  if (groups.length === 0) return '';
  return `<h2>Pull-request environments</h2><ul class="prs">${groups.map((g) => {
    const bad = g.services.filter((x) => serviceProblems(x.service, []).length > 0).length;
    return `<li class="pr${bad ? ' bad' : ''}" data-pr="${escapeHtml(g.pr)}"><b>PR #${escapeHtml(g.pr)}</b> <small>${g.services.length} services${bad ? `, ${bad} with problems` : ''}</small>: `
      + g.services.map((x) => `${escapeHtml(x.service.name)} (${x.service.running}/${x.service.desired})`).join(', ') + '</li>';
  }).join('')}</ul>`;
}
