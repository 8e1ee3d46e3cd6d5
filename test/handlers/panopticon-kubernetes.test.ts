import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as https from 'https';
import * as os from 'os';
import * as path from 'path';
import * as esbuild from 'esbuild';
import {
  eksToken, KUBE_LISTS, KUBE_PAGE_LIMIT, KubeEndpoint, KubeSnapshotOptions, parseCpuMilli, parseMemoryMiB, readEksCluster, readEksClusters,
} from '../../handlers/panopticon-api/kubernetes';

// The reader runs the real @kubernetes/client-node (typed list calls, its HTTP stack, its JSON
// deserialisation) against a stand-in API server on 127.0.0.1 that serves in-memory lists over
// HTTPS with its own CA, and answers with the faults each test forces.

/** Objects of a cluster at `multiplier` times the talk's scale (35 workloads, 54 pods, 29 nodes). */
function kubeObjects(multiplier: number) {
  const nodes = Array.from({ length: 29 * multiplier }, (_, i) => ({
    metadata: { name: `ip-10-0-${Math.floor(i / 250)}-${i % 250}.ec2.internal`, labels: { 'node.kubernetes.io/instance-type': 'm6g.large' } },
    spec: i === 0 ? { unschedulable: true } : {},
    status: { allocatable: { cpu: '1930m', memory: '7291300Ki' }, conditions: [{ type: 'Ready', status: i === 1 ? 'False' : 'True' }] },
  }));
  const deployments = Array.from({ length: 35 * multiplier }, (_, i) => ({
    metadata: { name: `svc-${i}`, namespace: `team-${i % 4}` },
    spec: { replicas: 2 }, status: { readyReplicas: i === 0 ? 1 : 2, updatedReplicas: 2 },
  }));
  const pods = Array.from({ length: 54 * multiplier }, (_, i) => {
    const d = deployments[i % deployments.length];
    return {
      metadata: { name: `${d.metadata.name}-7d9f8-${i}`, namespace: d.metadata.namespace, labels: { 'pod-template-hash': '7d9f8' },
        ownerReferences: [{ kind: 'ReplicaSet', name: `${d.metadata.name}-7d9f8`, controller: true }] },
      spec: { nodeName: nodes[i % nodes.length].metadata.name, containers: [{ name: 'app', resources: { requests: { cpu: '250m', memory: '512Mi' } } }] },
      status: { phase: i === 0 ? 'Pending' : 'Running', conditions: [{ type: 'Ready', status: i === 0 ? 'False' : 'True' }], containerStatuses: [{ restartCount: 1 }] },
    };
  });
  const daemonsets = [{ metadata: { name: 'aws-node', namespace: 'kube-system' }, status: { desiredNumberScheduled: nodes.length, numberReady: nodes.length, updatedNumberScheduled: nodes.length } }];
  return { pods: pods as object[], nodes: nodes as object[], deployments: deployments as object[], statefulsets: [] as object[], daemonsets: daemonsets as object[] };
}

type Lists = Record<keyof typeof KUBE_LISTS, object[]>;
interface Answer { status: number; body?: unknown; retryAfterSeconds?: number }
type FakeApi = ((requestPath: string) => Answer | 'hang') & { paths: string[] };

/** An in-memory Kubernetes list API: pages by `limit`/`continue` like the API server, with a fault hook per request. */
function fakeApi(lists: Lists, fault?: (requestPath: string, n: number) => Answer | 'hang' | undefined): FakeApi {
  const paths: string[] = [];
  const answer = (p: string): Answer | 'hang' => {
    paths.push(p);
    const forced = fault?.(p, paths.length);
    if (forced) return forced;
    const url = new URL(p, 'https://k8s');
    const kind = (Object.keys(KUBE_LISTS) as (keyof typeof KUBE_LISTS)[]).find((k) => KUBE_LISTS[k] === url.pathname);
    if (!kind) return { status: 404, body: { kind: 'Status', code: 404 } };
    const limit = Number(url.searchParams.get('limit'));
    const start = Number(url.searchParams.get('continue') ?? 0);
    const items = lists[kind].slice(start, start + limit);
    const next = start + limit < lists[kind].length ? String(start + limit) : undefined;
    return { status: 200, body: { kind: 'List', apiVersion: 'v1', metadata: next ? { continue: next } : {}, items } };
  };
  return Object.assign(answer, { paths });
}

/** The continue tokens the client sent, by list path. */
const continued = (api: FakeApi) => api.paths.map((p) => new URL(p, 'https://k8s')).filter((u) => u.searchParams.has('continue'))
  .map((u) => `${u.pathname} continue=${u.searchParams.get('continue')} limit=${u.searchParams.get('limit')}`);

const noSleep = async () => undefined;
const logs = () => {
  const lines: { message: string; attributes: Record<string, unknown> }[] = [];
  return { lines, log: { warn: (message: string, attributes: Record<string, unknown>) => lines.push({ message, attributes }) } };
};

let dir: string;
let server: https.Server;
let url: string;
let ca: string;
let current: FakeApi;
const seen: { authorization?: string; accept?: string }[] = [];

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'panopticon-k8s-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem')], { stdio: 'ignore' });
  ca = fs.readFileSync(path.join(dir, 'cert.pem'), 'utf-8');
  server = https.createServer({ key: fs.readFileSync(path.join(dir, 'key.pem')), cert: ca }, (req, res) => {
    seen.push({ authorization: req.headers.authorization, accept: req.headers.accept });
    const r = current(req.url ?? '/');
    if (r === 'hang') return; // never answers
    res.writeHead(r.status, { 'content-type': 'application/json', ...(r.retryAfterSeconds !== undefined ? { 'retry-after': String(r.retryAfterSeconds) } : {}) });
    res.end(r.body === undefined ? 'not json' : JSON.stringify(r.body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `https://127.0.0.1:${(server.address() as { port: number }).port}`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  fs.rmSync(dir, { recursive: true, force: true });
});

/** The stand-in cluster's endpoint: its URL, its CA and a bearer token. */
const endpoint = (overrides: Partial<KubeEndpoint> = {}) => async (): Promise<KubeEndpoint> => ({ url, caPem: ca, token: async () => 'k8s-aws-v1.test', ...overrides });

/** Reads the stand-in cluster serving `api`. */
function read(api: FakeApi, options: KubeSnapshotOptions = { sleep: noSleep }, overrides: Partial<KubeEndpoint> = {}) {
  current = api;
  return readEksCluster('platform', endpoint(overrides), options);
}

describe('EKS snapshot: Kubernetes API calls per snapshot are bounded', () => {
  test('the talk scale takes 5 calls (one list per kind), and shows workloads, pods and nodes', async () => {
    const api = fakeApi(kubeObjects(1));
    const view = await read(api);
    expect(view.kubernetesCalls).toBe(5);
    expect(api.paths).toHaveLength(5);
    expect(view.error).toBeUndefined();
    expect(view.workloads).toHaveLength(36);
    expect(view.pods).toHaveLength(54);
    expect(view.nodes).toHaveLength(29);
    expect(view.pods.find((p) => p.name === 'svc-0-7d9f8-0')).toMatchObject({ workload: 'Deployment/svc-0', phase: 'Pending', ready: false, cpuRequestMilli: 250, memoryRequestMiB: 512 });
    expect(view.workloads.find((w) => w.name === 'svc-0')).toMatchObject({ kind: 'Deployment', desired: 2, ready: 1 });
    expect(view.nodes[0]).toMatchObject({ allocatable: { cpuMilli: 1930, memoryMiB: 7120 } });
    expect(view.nodes.filter((n) => !n.ready)).toHaveLength(1);
    expect(view.nodes.filter((n) => n.unschedulable)).toHaveLength(1);
  });

  test('ten times the scale takes 6 calls: 540 pods need a second page of 500', async () => {
    const api = fakeApi(kubeObjects(10));
    const view = await read(api);
    expect(view.pods).toHaveLength(540);
    expect(view.kubernetesCalls).toBe(5 + Math.ceil(540 / KUBE_PAGE_LIMIT) - 1);
    expect(api.paths).toHaveLength(view.kubernetesCalls);
    expect(continued(api)).toEqual(['/api/v1/pods continue=500 limit=500']);
  });

  test('sends the bearer token and asks for JSON', async () => {
    await read(fakeApi(kubeObjects(1)));
    expect(seen.at(-1)).toMatchObject({ authorization: 'Bearer k8s-aws-v1.test', accept: expect.stringContaining('application/json') });
  });
});

describe('EKS snapshot fault matrix', () => {
  test.each([
    ['a server error', 500],
    ['an authorisation failure', 401],
    ['a throttle that persists after one retry', 429],
  ])('%s on a list makes the cluster unreadable (empty, with the reason) instead of half-read', async (_case, status) => {
    const { lines, log } = logs();
    const api = fakeApi(kubeObjects(1), (p) => (p.startsWith('/apis/apps/v1/deployments') ? { status, body: { kind: 'Status' } } : undefined));
    const view = await read(api, { sleep: noSleep, log });
    expect(view.error).toMatch(new RegExp(`deployments answered HTTP ${status}`));
    expect([view.pods, view.nodes, view.workloads]).toEqual([[], [], []]);
    expect(lines[0]).toMatchObject({ message: 'reading an EKS cluster failed; showing it as unreadable', attributes: { cluster: 'platform', reason: view.error } });
  });

  test('one throttled call is retried once after Retry-After (capped), then succeeds', async () => {
    const waits: number[] = [];
    let throttled = false;
    const api = fakeApi(kubeObjects(1), (p) => {
      if (p.startsWith('/api/v1/pods') && !throttled) { throttled = true; return { status: 429, body: { kind: 'Status' }, retryAfterSeconds: 30 }; }
      return undefined;
    });
    const view = await read(api, { sleep: async (ms) => { waits.push(ms); } });
    expect(view.error).toBeUndefined();
    expect(waits).toEqual([2000]);
    expect(view.kubernetesCalls).toBe(6);
  });

  test('malformed objects are skipped, counted and logged; the rest is shown', async () => {
    const lists = kubeObjects(1);
    lists.pods.push({ metadata: {} }, 'not an object' as unknown as object, { metadata: { name: 'no-namespace' } });
    lists.nodes.push({ metadata: { name: 42 } });
    const { lines, log } = logs();
    const view = await read(fakeApi(lists), { sleep: noSleep, log });
    expect(view.pods).toHaveLength(54);
    expect(view.skippedObjects).toBe(4);
    expect(lines).toEqual([{ message: 'skipped malformed Kubernetes objects', attributes: { cluster: 'platform', skippedObjects: 4 } }]);
  });

  test('out-of-range numbers fall back to zero instead of being shown', async () => {
    const lists = kubeObjects(1);
    lists.deployments[0] = { metadata: { name: 'odd', namespace: 'x' }, spec: { replicas: -3 }, status: { readyReplicas: 1.5 } };
    const view = await read(fakeApi(lists));
    expect(view.workloads.find((w) => w.name === 'odd')).toMatchObject({ desired: 1, ready: 0 });
  });

  test.each([
    ['not JSON', undefined],
    ['JSON but not a list', { kind: 'Status' }],
  ])('an answer that is %s makes the cluster unreadable', async (_case, body) => {
    const api = fakeApi(kubeObjects(1), (p) => (p.startsWith('/api/v1/nodes') ? { status: 200, body } : undefined));
    const view = await read(api);
    expect(view.error).toMatch(/nodes answered something that is not a list/);
    expect(view.pods).toEqual([]);
  });

  test('a page chain interrupted after the first page (partial answer) makes the cluster unreadable, not half-read', async () => {
    const api = fakeApi(kubeObjects(10), (p) => (p.includes('continue=') ? { status: 410, body: { kind: 'Status', reason: 'Expired' } } : undefined));
    const view = await read(api);
    expect(view.error).toMatch(/pods answered HTTP 410/);
    expect(view.pods).toEqual([]);
  });

  test('a list longer than the page cap is reported as too large, not half-read', async () => {
    const endless = fakeApi(kubeObjects(1), (p) => (p.startsWith('/api/v1/pods')
      ? { status: 200, body: { kind: 'PodList', metadata: { continue: 'more' }, items: [] } } : undefined));
    const view = await read(endless);
    expect(view.error).toMatch(/\/api\/v1\/pods has more than 10000 objects/);
    expect(endless.paths.filter((p) => p.startsWith('/api/v1/pods'))).toHaveLength(20);
  });

  test('nodes refused (403, a view-only access entry): pods and workloads still shown, nodes marked unavailable', async () => {
    const api = fakeApi(kubeObjects(1), (p) => (p.startsWith('/api/v1/nodes') ? { status: 403, body: { kind: 'Status' } } : undefined));
    const view = await read(api);
    expect(view.error).toBeUndefined();
    expect(view.pods).toHaveLength(54);
    expect(view.nodes).toEqual([]);
    expect(view.nodesUnavailable).toMatch(/nodes answered HTTP 403/);
  });

  test('one unreadable cluster does not hide the others; clusters read concurrently', async () => {
    current = fakeApi(kubeObjects(1));
    const views = await readEksClusters([
      { name: 'b-ok', endpoint: endpoint() },
      { name: 'a-broken', endpoint: endpoint({ url: 'https://127.0.0.1:1' }) },
    ], { sleep: noSleep });
    expect(views.map((v) => [v.name, v.error ?? 'ok'])).toEqual([['a-broken', expect.stringMatching(/^the Kubernetes API could not be read: .*ECONNREFUSED/)], ['b-ok', 'ok']]);
  });

  test('a token that cannot be made makes the cluster unreadable, with the reason', async () => {
    const view = await read(fakeApi(kubeObjects(1)), { sleep: noSleep }, { token: async () => { throw new Error('no credentials'); } });
    expect(view.error).toBe('the Kubernetes API could not be read: no credentials');
    expect(view.kubernetesCalls).toBe(0);
  });

  test('refuses a server whose certificate is not signed by the cluster CA', async () => {
    const otherCa = execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=other', '-keyout', '/dev/null'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    const view = await read(fakeApi(kubeObjects(1)), { sleep: noSleep }, { caPem: otherCa });
    expect(view.error).toMatch(/could not be read: .*(self-signed|certificate)/i);
  });

  test('a server that never answers times out and the cluster is shown as unreadable', async () => {
    const started = Date.now();
    const view = await read(fakeApi(kubeObjects(1), () => 'hang'), { sleep: noSleep }, { timeoutMs: 300 });
    expect(view.error).toMatch(/did not answer .* within 300 ms/);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  test('parses Kubernetes quantities and refuses malformed ones', () => {
    expect([parseCpuMilli('250m'), parseCpuMilli('2'), parseCpuMilli('0.5'), parseCpuMilli('lots')]).toEqual([250, 2000, 500, undefined]);
    expect([parseMemoryMiB('512Mi'), parseMemoryMiB('1Gi'), parseMemoryMiB('1048576'), parseMemoryMiB('1e6'), parseMemoryMiB('-1Mi')]).toEqual([512, 1024, 1, 1, undefined]);
  });
});

describe('the reader as the Lambda bundles it (esbuild with the asset build\'s options: unused client modules dropped)', () => {
  test('reads ten times the talk scale in the same 6 calls, and still reports a partial answer as unreadable', async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { handlerBuildOptions } = require('../../scripts/build-assets.js');
    // Inside the project, so the bundle finds its externals (@smithy/*) as the Lambda runtime provides them.
    const outfile = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'panopticon-test', 'kubernetes.js');
    await esbuild.build({ ...handlerBuildOptions(path.join('handlers', 'panopticon-api', 'kubernetes.ts'), outfile), logLevel: 'silent' });
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const bundled: typeof import('../../handlers/panopticon-api/kubernetes') = require(outfile);
    current = fakeApi(kubeObjects(10));
    const view = await bundled.readEksCluster('platform', endpoint(), { sleep: noSleep });
    expect([view.error, view.kubernetesCalls, view.pods.length, view.nodes.length]).toEqual([undefined, 6, 540, 290]);
    current = fakeApi(kubeObjects(10), (p) => (p.includes('continue=') ? { status: 410, body: { kind: 'Status' } } : undefined));
    expect((await bundled.readEksCluster('platform', endpoint(), { sleep: noSleep })).error).toMatch(/pods answered HTTP 410/);
  });
});

describe('EKS bearer token', () => {
  test('is a presigned STS GetCallerIdentity URL with the cluster name signed in x-k8s-aws-id, valid 60 s', async () => {
    const token = await eksToken('platform', 'us-east-1', { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret', sessionToken: 'session' }, new Date('2026-12-01T00:00:00Z'));
    expect(token.startsWith('k8s-aws-v1.')).toBe(true);
    expect(token).not.toMatch(/[=+/]/);
    const presigned = new URL(Buffer.from(token.slice('k8s-aws-v1.'.length), 'base64url').toString());
    expect(presigned.host).toBe('sts.us-east-1.amazonaws.com');
    expect(presigned.searchParams.get('Action')).toBe('GetCallerIdentity');
    expect(presigned.searchParams.get('X-Amz-Expires')).toBe('60');
    expect(presigned.searchParams.get('X-Amz-SignedHeaders')).toBe('host;x-k8s-aws-id');
    expect(presigned.searchParams.get('X-Amz-Security-Token')).toBe('session');
    expect(presigned.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });
});
