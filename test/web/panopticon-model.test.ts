import {
  COLLAPSE_ABOVE_SERVICES, escapeHtml, instanceProblems, NO_FILTERS, pullRequestGroups, renderPullRequests, renderTree,
  serviceProblems, summarize, taskProblems,
} from '../../web/panopticon/model';
import { syntheticSnapshot } from './panopticon-fixtures';

const count = (html: string, needle: string) => html.split(needle).length - 1;

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
    expect(renderPullRequests(snapshot)).toContain('PR #100');
  });

  test('escapes names from ECS', () => {
    expect(escapeHtml('<img src=x onerror="a">&\'')).toBe('&lt;img src=x onerror=&quot;a&quot;&gt;&amp;&#39;');
    const evil = syntheticSnapshot(1);
    evil.clusters[0].services[0].events.push({ message: '<script>alert(1)</script>' });
    expect(renderTree(evil, NO_FILTERS, new Set())).not.toContain('<script>');
  });

  test('renders ten times the talk scale quickly enough to refresh every few seconds', () => {
    const big = syntheticSnapshot(10);
    const start = process.hrtime.bigint();
    renderTree(big, NO_FILTERS, new Set());
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    expect(ms).toBeLessThan(500);
  });
});
