// Reads the workload → pod → node picture of an EKS cluster through the Kubernetes API with a
// fixed number of list calls per snapshot (five kinds, across all namespaces, 500 objects a page),
// with the official client's typed list calls (@kubernetes/client-node 1.4: the newest release on
// node-fetch; 2.x needs undici 8, i.e. Node >= 22.19, and our tests also run on Node 20). The
// client trusts the cluster's CA only and sends an EKS bearer token (a presigned STS
// GetCallerIdentity URL, made below as `aws eks get-token` does).
import { createHash, createHmac } from 'crypto';
import { ApiException, AppsV1Api, CoreV1Api, createConfiguration, KubeConfig, Middleware, ServerConfiguration } from '@kubernetes/client-node';
import { SignatureV4 } from '@smithy/signature-v4';

/** Objects per list page: the API server's default maximum chunk is far above; 500 keeps responses small. */
export const KUBE_PAGE_LIMIT = 500;
/** Pages per kind at most (10,000 objects); beyond that the cluster is reported as too large, not half-read. */
export const KUBE_MAX_PAGES = 20;
/** One retry of a throttled (429) call, waiting Retry-After up to this long. */
export const KUBE_MAX_RETRY_AFTER_MS = 2000;

export const KUBE_LISTS = {
  pods: '/api/v1/pods',
  nodes: '/api/v1/nodes',
  deployments: '/apis/apps/v1/deployments',
  statefulsets: '/apis/apps/v1/statefulsets',
  daemonsets: '/apis/apps/v1/daemonsets',
} as const;

export interface KubeWorkloadView {
  /** `Deployment`, `StatefulSet` or `DaemonSet`. */
  readonly kind: string;
  readonly namespace: string;
  readonly name: string;
  readonly desired: number;
  readonly ready: number;
  readonly updated: number;
}

export interface KubePodView {
  readonly namespace: string;
  readonly name: string;
  readonly phase: string;
  readonly ready: boolean;
  readonly restarts: number;
  readonly nodeName?: string;
  /** `Kind/name` of the owning workload (a ReplicaSet resolves to its Deployment). */
  readonly workload?: string;
  readonly cpuRequestMilli: number;
  readonly memoryRequestMiB: number;
  /** Why a container is waiting (CrashLoopBackOff, ImagePullBackOff...), when one is. */
  readonly reason?: string;
}

export interface KubeNodeView {
  readonly name: string;
  readonly ready: boolean;
  readonly unschedulable: boolean;
  readonly instanceType?: string;
  readonly allocatable: { readonly cpuMilli: number; readonly memoryMiB: number };
}

export interface EksClusterView {
  readonly name: string;
  /** Kubernetes API calls this cluster's read took. */
  readonly kubernetesCalls: number;
  /** Set when the cluster could not be read; the lists are then empty rather than partial. */
  readonly error?: string;
  /** Objects left out because they were malformed. */
  readonly skippedObjects: number;
  readonly workloads: KubeWorkloadView[];
  readonly pods: KubePodView[];
  readonly nodes: KubeNodeView[];
  /**
   * Set when listing nodes was refused (HTTP 403): the EKS access policy AmazonEKSViewPolicy mirrors
   * Kubernetes' `view` role, which covers namespaced objects only. Pods still name their node.
   */
  readonly nodesUnavailable?: string;
}

export type KubeKind = keyof typeof KUBE_LISTS;

/** Where one cluster's API server is and how to authenticate to it. */
export interface KubeEndpoint {
  readonly url: string;
  /** PEM of the cluster CA (EKS returns it base64-encoded; decode before passing). */
  readonly caPem: string;
  readonly token: () => Promise<string>;
  /** @default 5000 */
  readonly timeoutMs?: number;
}

/** One page of a list, as the typed client returns it (only what the reader uses). */
interface KubeListPage { readonly items?: unknown; readonly metadata?: { readonly _continue?: string } }
type KubeListCall = (page: { limit: number; _continue?: string }) => Promise<KubeListPage>;

/**
 * The five typed list calls of @kubernetes/client-node for one cluster: a KubeConfig built in code
 * (server, CA, bearer token; no kubeconfig file, no system CAs) and a per-request timeout.
 */
export function kubeListCalls(endpoint: KubeEndpoint, token: string): Record<KubeKind, KubeListCall> {
  const kc = new KubeConfig();
  kc.loadFromClusterAndUser(
    { name: 'eks', server: endpoint.url, caData: Buffer.from(endpoint.caPem).toString('base64'), skipTLSVerify: false },
    { name: 'panopticon', token },
  );
  const timeoutMs = endpoint.timeoutMs ?? 5000;
  // The client has no timeout of its own: abort each request that takes longer.
  const timeout: Middleware = {
    pre: async (context) => { context.setSignal(AbortSignal.timeout(timeoutMs)); return context; },
    post: async (response) => response,
  };
  // kc.makeApiClient() with a middleware added: the same configuration it builds.
  const configuration = createConfiguration({
    baseServer: new ServerConfiguration(endpoint.url, {}),
    authMethods: { default: kc },
    promiseMiddleware: [timeout],
  });
  const core = new CoreV1Api(configuration);
  const apps = new AppsV1Api(configuration);
  return {
    pods: (page) => core.listPodForAllNamespaces(page),
    nodes: (page) => core.listNode(page),
    deployments: (page) => apps.listDeploymentForAllNamespaces(page),
    statefulsets: (page) => apps.listStatefulSetForAllNamespaces(page),
    daemonsets: (page) => apps.listDaemonSetForAllNamespaces(page),
  };
}

/** node:crypto as the SHA-256 the signer expects. */
type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array => (typeof d === 'string' ? d : d instanceof ArrayBuffer ? new Uint8Array(d) : new Uint8Array(d.buffer, d.byteOffset, d.byteLength));
class Sha256 {
  private hash: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  private readonly secret?: string | Uint8Array;
  constructor(secret?: SourceData) { this.secret = secret === undefined ? undefined : bytes(secret); this.hash = this.fresh(); }
  update(data: SourceData): void { this.hash.update(bytes(data)); }
  async digest(): Promise<Uint8Array> { return new Uint8Array(this.hash.digest()); }
  reset(): void { this.hash = this.fresh(); }
  private fresh() { return this.secret === undefined ? createHash('sha256') : createHmac('sha256', this.secret); }
}

export interface AwsCredentials { readonly accessKeyId: string; readonly secretAccessKey: string; readonly sessionToken?: string }

/**
 * The EKS bearer token, as `aws eks get-token` makes it: `k8s-aws-v1.` + base64url of an STS
 * GetCallerIdentity URL presigned for 60 s with the cluster name signed in `x-k8s-aws-id`.
 */
export async function eksToken(clusterName: string, region: string, credentials: AwsCredentials, now?: Date): Promise<string> {
  const hostname = `sts.${region}.amazonaws.com`;
  const signer = new SignatureV4({ credentials, region, service: 'sts', sha256: Sha256 });
  const signed = await signer.presign({
    method: 'GET', protocol: 'https:', hostname, path: '/',
    query: { Action: 'GetCallerIdentity', Version: '2011-06-15' },
    headers: { host: hostname, 'x-k8s-aws-id': clusterName },
  }, { expiresIn: 60, unhoistableHeaders: new Set(['x-k8s-aws-id']), signingDate: now });
  const query = Object.entries(signed.query ?? {}).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v))}`).join('&');
  return `k8s-aws-v1.${Buffer.from(`https://${hostname}/?${query}`).toString('base64url')}`;
}

// --- quantities
const CPU = /^(\d+(?:\.\d+)?)(m)?$/;
const MEMORY = /^(\d+(?:\.\d+)?)(?:e(\d+))?(Ki|Mi|Gi|Ti|k|M|G|T)?$/;
const MEMORY_UNITS: Record<string, number> = { '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12 };

/** Millicores of a CPU quantity (`250m`, `2`, `0.5`); undefined when malformed. */
export function parseCpuMilli(q: unknown): number | undefined {
  const m = typeof q === 'string' ? CPU.exec(q) : typeof q === 'number' ? CPU.exec(String(q)) : null;
  if (!m) return undefined;
  return m[2] ? Number(m[1]) : Number(m[1]) * 1000;
}

/** MiB of a memory quantity (`512Mi`, `1Gi`, `1G`, `129e6`, bytes); undefined when malformed. */
export function parseMemoryMiB(q: unknown): number | undefined {
  const m = typeof q === 'string' ? MEMORY.exec(q) : typeof q === 'number' ? MEMORY.exec(String(q)) : null;
  if (!m) return undefined;
  const bytes = Number(m[1]) * 10 ** Number(m[2] ?? 0) * MEMORY_UNITS[m[3] ?? ''];
  return Math.round((bytes / 1024 ** 2) * 10) / 10;
}

// --- object views (every field checked: a malformed object is skipped, never guessed)
type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v.length > 0 ? v : undefined);
const count = (v: unknown, fallback = 0): number => (typeof v === 'number' && Number.isInteger(v) && v >= 0 ? v : fallback);
const meta = (o: Obj): { name: string; namespace?: string; labels: Obj; owners: unknown[] } | undefined => {
  if (!isObj(o.metadata)) return undefined;
  const name = str(o.metadata.name);
  if (!name) return undefined;
  return { name, namespace: str(o.metadata.namespace), labels: isObj(o.metadata.labels) ? o.metadata.labels : {}, owners: Array.isArray(o.metadata.ownerReferences) ? o.metadata.ownerReferences : [] };
};

function workloadView(kind: string, o: Obj): KubeWorkloadView | undefined {
  const m = meta(o);
  if (!m || !m.namespace) return undefined;
  const spec = isObj(o.spec) ? o.spec : {};
  const status = isObj(o.status) ? o.status : {};
  if (kind === 'DaemonSet') {
    return { kind, namespace: m.namespace, name: m.name, desired: count(status.desiredNumberScheduled), ready: count(status.numberReady), updated: count(status.updatedNumberScheduled) };
  }
  return { kind, namespace: m.namespace, name: m.name, desired: count(spec.replicas, 1), ready: count(status.readyReplicas), updated: count(status.updatedReplicas) };
}

function podView(o: Obj): KubePodView | undefined {
  const m = meta(o);
  if (!m || !m.namespace) return undefined;
  const spec = isObj(o.spec) ? o.spec : {};
  const status = isObj(o.status) ? o.status : {};
  const containers = Array.isArray(spec.containers) ? spec.containers.filter(isObj) : [];
  let cpu = 0, memory = 0;
  for (const c of containers) {
    const requests = isObj(c.resources) && isObj(c.resources.requests) ? c.resources.requests : {};
    cpu += parseCpuMilli(requests.cpu) ?? 0;
    memory += parseMemoryMiB(requests.memory) ?? 0;
  }
  const statuses = Array.isArray(status.containerStatuses) ? status.containerStatuses.filter(isObj) : [];
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObj) : [];
  const waiting = statuses.map((s) => (isObj(s.state) && isObj(s.state.waiting) ? str(s.state.waiting.reason) : undefined)).find((r) => r);
  const controller = m.owners.filter(isObj).find((r) => r.controller === true) ?? m.owners.filter(isObj)[0];
  let workload: string | undefined;
  if (controller && str(controller.kind) && str(controller.name)) {
    const hash = str(m.labels['pod-template-hash']);
    const owner = String(controller.name);
    workload = controller.kind === 'ReplicaSet' && hash && owner.endsWith(`-${hash}`)
      ? `Deployment/${owner.slice(0, -hash.length - 1)}` : `${String(controller.kind)}/${owner}`;
  }
  return {
    namespace: m.namespace,
    name: m.name,
    phase: str(status.phase) ?? 'Unknown',
    ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    restarts: statuses.reduce((n, s) => n + count(s.restartCount), 0),
    nodeName: str(spec.nodeName),
    workload,
    cpuRequestMilli: Math.round(cpu),
    memoryRequestMiB: Math.round(memory),
    reason: waiting,
  };
}

function nodeView(o: Obj): KubeNodeView | undefined {
  const m = meta(o);
  if (!m) return undefined;
  const spec = isObj(o.spec) ? o.spec : {};
  const status = isObj(o.status) ? o.status : {};
  const allocatable = isObj(status.allocatable) ? status.allocatable : {};
  const conditions = Array.isArray(status.conditions) ? status.conditions.filter(isObj) : [];
  return {
    name: m.name,
    ready: conditions.some((c) => c.type === 'Ready' && c.status === 'True'),
    unschedulable: spec.unschedulable === true,
    instanceType: str(m.labels['node.kubernetes.io/instance-type']),
    allocatable: { cpuMilli: parseCpuMilli(allocatable.cpu) ?? 0, memoryMiB: Math.round(parseMemoryMiB(allocatable.memory) ?? 0) },
  };
}

export interface KubeSnapshotOptions {
  /** Waits before the retry of a throttled call. @default setTimeout */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly log?: { warn(message: string, attributes: Record<string, unknown>): void };
}

class KubeReadError extends Error {
  constructor(message: string, readonly status?: number) { super(message); }
}

/** Why one list call failed, in the reader's words (status, timeout, not a list, or the cause). */
function listError(kind: KubeKind, err: unknown, timeoutMs: number): KubeReadError {
  const path = KUBE_LISTS[kind];
  if (err instanceof ApiException) return new KubeReadError(`${path} answered HTTP ${err.code}${err.code === 429 ? ' (throttled)' : ''}`, err.code);
  if (err instanceof Error && err.name === 'AbortError') return new KubeReadError(`Kubernetes API did not answer ${path} within ${timeoutMs} ms`);
  // The client parses the body as JSON before it is ours to check.
  if (err instanceof SyntaxError) return new KubeReadError(`${path} answered something that is not a list (${err.message})`);
  return new KubeReadError(`the Kubernetes API could not be read: ${err instanceof Error ? err.message : String(err)}`);
}

/**
 * Reads one cluster: five paginated lists across all namespaces, in parallel. Any failed call
 * (error, timeout, non-JSON answer, a throttle that persists after one retry, an interrupted page
 * chain) makes the whole cluster an `error` with empty lists: a half-read cluster would look healthier
 * than it is. Malformed objects are skipped and counted.
 */
export async function readEksCluster(name: string, endpoint: () => Promise<KubeEndpoint>, options: KubeSnapshotOptions = {}): Promise<EksClusterView> {
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let calls = 0;
  let skipped = 0;
  let lists: Record<KubeKind, KubeListCall>;
  let timeoutMs = 5000;
  const call = async (kind: KubeKind, page: { limit: number; _continue?: string }): Promise<KubeListPage & { items: unknown[] }> => {
    for (let attempt = 0; ; attempt++) {
      calls++;
      let body: KubeListPage;
      try {
        body = await lists[kind](page);
      } catch (err) {
        if (err instanceof ApiException && err.code === 429 && attempt === 0) {
          const retryAfter = Number((err.headers as Record<string, string> | undefined)?.['retry-after']);
          await sleep(Math.min((Number.isFinite(retryAfter) ? retryAfter : 1) * 1000, KUBE_MAX_RETRY_AFTER_MS));
          continue;
        }
        throw listError(kind, err, timeoutMs);
      }
      if (!Array.isArray(body?.items)) throw new KubeReadError(`${KUBE_LISTS[kind]} answered something that is not a list`);
      return body as KubeListPage & { items: unknown[] };
    }
  };
  const list = async (kind: KubeKind): Promise<Obj[]> => {
    const items: Obj[] = [];
    let cont: string | undefined;
    for (let page = 0; page < KUBE_MAX_PAGES; page++) {
      const body = await call(kind, { limit: KUBE_PAGE_LIMIT, ...(cont ? { _continue: cont } : {}) });
      for (const item of body.items) {
        if (isObj(item)) items.push(item); else skipped++;
      }
      cont = str(body.metadata?._continue);
      if (!cont) return items;
    }
    throw new KubeReadError(`${KUBE_LISTS[kind]} has more than ${KUBE_PAGE_LIMIT * KUBE_MAX_PAGES} objects`);
  };
  const keep = <T>(views: (T | undefined)[]): T[] => {
    const ok = views.filter((v): v is T => v !== undefined);
    skipped += views.length - ok.length;
    return ok;
  };
  try {
    const ep = await endpoint();
    timeoutMs = ep.timeoutMs ?? timeoutMs;
    lists = kubeListCalls(ep, await ep.token());
    let nodesUnavailable: string | undefined;
    const listNodes = list('nodes').catch((err: unknown) => {
      if (err instanceof KubeReadError && err.status === 403) {
        nodesUnavailable = `${err.message}: the access entry may read namespaced objects only`;
        return [] as Obj[];
      }
      throw err;
    });
    const [pods, nodes, deployments, statefulsets, daemonsets] = await Promise.all([
      list('pods'), listNodes, list('deployments'), list('statefulsets'), list('daemonsets'),
    ]);
    const workloads = [
      ...keep(deployments.map((o) => workloadView('Deployment', o))),
      ...keep(statefulsets.map((o) => workloadView('StatefulSet', o))),
      ...keep(daemonsets.map((o) => workloadView('DaemonSet', o))),
    ].sort((a, b) => `${a.namespace}/${a.kind}/${a.name}`.localeCompare(`${b.namespace}/${b.kind}/${b.name}`));
    const podViews = keep(pods.map(podView)).sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    const nodeViews = keep(nodes.map(nodeView)).sort((a, b) => a.name.localeCompare(b.name));
    const view: EksClusterView = {
      name,
      kubernetesCalls: calls,
      skippedObjects: skipped,
      workloads,
      pods: podViews,
      nodes: nodeViews,
      ...(nodesUnavailable ? { nodesUnavailable } : {}),
    };
    if (skipped > 0) options.log?.warn('skipped malformed Kubernetes objects', { cluster: name, skippedObjects: skipped });
    return view;
  } catch (err) {
    const reason = err instanceof KubeReadError ? err.message : `the Kubernetes API could not be read: ${err instanceof Error ? err.message : String(err)}`;
    options.log?.warn('reading an EKS cluster failed; showing it as unreadable', { cluster: name, reason });
    return { name, kubernetesCalls: calls, error: reason, skippedObjects: skipped, workloads: [], pods: [], nodes: [] };
  }
}

/** How the API function reaches one EKS cluster's API server. */
export interface EksClusterAccess {
  readonly name: string;
  /** The cluster's endpoint, CA and token (looked up when the snapshot is taken). */
  readonly endpoint: () => Promise<KubeEndpoint>;
}

/** Reads every registered EKS cluster in parallel; a cluster that fails is an `error`, never the whole snapshot. */
export async function readEksClusters(clusters: readonly EksClusterAccess[], options: KubeSnapshotOptions = {}): Promise<EksClusterView[]> {
  const views = await Promise.all(clusters.map((c) => readEksCluster(c.name, c.endpoint, options)));
  return views.sort((a, b) => a.name.localeCompare(b.name));
}
