import {
  COLLAPSE_ABOVE_SERVICES, instanceProblems, NO_FILTERS, pullRequestGroups, pullRequestStatuses, renderEksTree, renderHosts, renderPullRequests, renderTree,
  serviceProblems, summarize, taskProblems, VNode,
} from '../../web/panopticon/model';
import { syntheticEks, syntheticSnapshot, toHtml } from './panopticon-fixtures';

const count = (nodes: VNode[] | string, needle: string) => (typeof nodes === 'string' ? nodes : toHtml(nodes)).split(needle).length - 1;
/** Every tag used anywhere in the tree. */
const tags = (nodes: (VNode | string)[]): string[] => nodes.flatMap((n) => (typeof n === 'string' ? [] : [n.tag, ...tags(n.children)]));

describe('panopticon page model', () => {
  const snapshot = syntheticSnapshot(1);

  test('summarizes the talk scale and its problems', () => {
    expect(summarize(snapshot)).toEqual({ clusters: 4, services: 35, tasks: 54, containerInstances: 29, problemServices: 2, drainingInstances: 1 });
  });

  test('a service is a problem when running differs from desired, tasks are pending or unhealthy', () => {
    const base = snapshot.clusters[0].services[0];
    expect(serviceProblems(base, [])).toEqual([]);
    expect(serviceProblems({ ...base, running: 1 }, [])).toEqual(['running 1 of 2']);
    expect(serviceProblems({ ...base, pending: 1 }, [])).toEqual(['1 pending']);
    expect(serviceProblems(base, [{ ...snapshot.clusters[0].tasks[0], health: 'UNHEALTHY' }])).toEqual(['1 unhealthy task']);
  });

  test('a draining instance and tasks on it are problems', () => {
    const draining = snapshot.clusters[1].containerInstances[0];
    expect(instanceProblems(draining)).toEqual(['draining']);
    expect(taskProblems(snapshot.clusters[1].tasks[0], draining)).toEqual(['on a draining instance']);
  });

  test('renders every cluster, service and task once, services open at the talk scale', () => {
    const html = renderTree(snapshot, NO_FILTERS, new Set());
    expect(count(html, 'class="cluster"')).toBe(4);
    expect(count(html, 'data-service=')).toBe(35);
    expect(count(html, 'data-task=')).toBe(54);
    expect(count(html, '<details class="service bad"')).toBe(2);
    expect(count(html, '" open>')).toBe(35);
  });

  test('collapses services at ten times the talk scale, except those the user opened', () => {
    const big = syntheticSnapshot(10);
    expect(summarize(big).services).toBeGreaterThan(COLLAPSE_ABOVE_SERVICES);
    const key = `svc:${big.clusters[0].services[0].arn}`;
    const html = renderTree(big, NO_FILTERS, new Set([key]));
    expect(count(html, 'data-service=')).toBe(350);
    expect(count(html, 'data-task=')).toBe(540);
    expect(count(html, '" open>')).toBe(1);
  });

  test('filters by cluster, by service name and by problems', () => {
    expect(count(renderTree(snapshot, { ...NO_FILTERS, cluster: 'cluster-1-1' }, new Set()), 'class="cluster"')).toBe(1);
    const byName = renderTree(snapshot, { ...NO_FILTERS, service: 'SVC-03' }, new Set());
    expect(count(byName, 'data-service=')).toBe(4);
    const problems = renderTree(snapshot, { ...NO_FILTERS, problemsOnly: true }, new Set());
    expect(count(problems, 'data-service=')).toBe(2);
    expect(count(problems, '<details class="service bad"')).toBe(2);
  });

  test('groups services by their pr-number tag', () => {
    expect(pullRequestGroups(snapshot).map((g) => [g.pr, g.services.length])).toEqual([['100', 2], ['101', 2]]);
    expect(toHtml(renderPullRequests(snapshot))).toContain('PR #100');
  });

  test('every field from ECS or Kubernetes stays text: markup in names, events and statuses creates no element', () => {
    const base = syntheticSnapshot(1);
    base.clusters[0].services[0].events.push({ message: '<script>alert(1)</script>' });
    const eks = syntheticEks(1);
    (eks[0].pods[1] as { phase: string }).phase = '<b>x</b>';
    const evil = { ...base, eks };
    const ci = evil.clusters[0].containerInstances[0] as { status: string };
    ci.status = '<img src=x onerror=alert(1)>';
    const all = [...renderTree(evil, NO_FILTERS, new Set()), ...renderEksTree(evil, NO_FILTERS, new Set()), ...renderHosts(evil, NO_FILTERS), ...renderPullRequests(evil)];
    expect(new Set(tags(all))).not.toContain('script');
    expect(new Set(tags(all))).not.toContain('img');
    expect(toHtml(all)).toContain('&lt;script&gt;');
  });

  test('the EKS tree: namespace → workload → pod → node, with ready ≠ desired, pending pods and not-ready nodes marked', () => {
    const s = { ...syntheticSnapshot(1), eks: syntheticEks(1) };
    const tree = renderEksTree(s, NO_FILTERS, new Set());
    expect(count(tree, 'data-namespace=')).toBe(4);
    expect(count(tree, 'data-workload=')).toBe(35);
    expect(count(tree, 'data-pod=')).toBe(54);
    expect(toHtml(tree)).toContain('ready 1 of 2');
    expect(toHtml(tree)).toContain('CrashLoopBackOff');
    expect(toHtml(tree)).toContain('on a not-ready node');
  });

  test('an unreadable EKS cluster is shown as such, with the reason', () => {
    const s = { ...syntheticSnapshot(1), eks: [{ name: 'broken', kubernetesCalls: 1, skippedObjects: 0, error: '/api/v1/pods answered HTTP 500', workloads: [], pods: [], nodes: [] }] };
    expect(toHtml(renderEksTree(s, NO_FILTERS, new Set()))).toContain('unreadable: /api/v1/pods answered HTTP 500');
  });

  test('the host view: one box per container instance, node and Fargate/unscheduled group, reservation bars, draining/not-ready marked', () => {
    const s = { ...syntheticSnapshot(1), eks: syntheticEks(1) };
    const hosts = toHtml(renderHosts(s, NO_FILTERS));
    expect(count(hosts, 'data-host=')).toBe(29 + 29 + 1);
    expect(count(hosts, 'class="host bad"')).toBe(1 + 2 + 1); // draining instance; not-ready and cordoned nodes; unscheduled pods
    expect(hosts).toContain('cpu 50%');
    expect(count(hosts, 'data-task=')).toBe(54);
    expect(count(hosts, 'data-pod=')).toBe(54);
  });

  test('pull-request environments show existence, deployed and shared modules, health and URL', () => {
    const s = syntheticSnapshot(1);
    const pr = s.clusters[3];
    pr.tags['pr-number'] = '100';
    pr.tags['pr-modules'] = 'svc-00 svc-02';
    pr.tags['pr-shared-modules'] = 'auth search';
    pr.tags['pr-url'] = 'https://pr-100.preview.example.com';
    const status = pullRequestStatuses(s).find((x) => x.pr === '100')!;
    expect(status).toMatchObject({ exists: true, deployed: ['svc-00', 'svc-02'], shared: ['auth', 'search'], url: 'https://pr-100.preview.example.com', healthy: true });
    pr.tags['pr-url'] = 'javascript:alert(1)';
    expect(pullRequestStatuses(s).find((x) => x.pr === '100')!.url).toBeUndefined();
  });

  // How fast is measured by the browser test's recorded figures, not asserted here.

  test('renders the host view at ten times the talk scale: every host and every task', () => {
    const big = { ...syntheticSnapshot(10), eks: syntheticEks(10) };
    const instances = big.clusters.reduce((n, c) => n + c.containerInstances.length, 0);
    const hosts = renderHosts(big, NO_FILTERS);
    expect(count(hosts, 'data-host=')).toBeGreaterThanOrEqual(instances);
    expect(count(hosts, 'data-task=')).toBe(big.clusters.reduce((n, c) => n + c.tasks.length, 0));
  });

  test('renders ten times the talk scale: every service, collapsed unless opened', () => {
    const big = syntheticSnapshot(10);
    const tree = renderTree(big, NO_FILTERS, new Set());
    expect(count(tree, 'data-service=')).toBe(big.clusters.reduce((n, c) => n + c.services.length, 0));
  });
});
