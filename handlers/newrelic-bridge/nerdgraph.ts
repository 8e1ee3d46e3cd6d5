// NerdGraph (New Relic's GraphQL API) client: ONE request per poll for every metric and service (one
// aliased NRQL query per metric in one GraphQL document), timeout, retries on 429/5xx, strict parsing.
import { Log, describeError } from '../shared/runtime';
import { BridgeConfig, MetricSpec } from './config';

/**
 * The GraphQL document for `count` metrics: each NRQL travels as a variable (`$q0`, `$q1`, ...), so it is
 * never spliced into GraphQL syntax, and each result comes back under its alias.
 */
export function nrqlDocument(count: number): string {
  const ids = Array.from({ length: count }, (_, i) => `q${i}`);
  return `query BridgePoll($accountId: Int!, ${ids.map((q) => `$${q}: Nrql!`).join(', ')}) { actor { account(id: $accountId) { `
    + `${ids.map((q) => `${q}: nrql(query: $${q}) { results }`).join(' ')} } } }`;
}

export interface QueryWindow {
  /** Epoch seconds, inclusive. */
  readonly since: number;
  /** Epoch seconds, exclusive. */
  readonly until: number;
}

/**
 * The minute that ended `delaySeconds` ago, aligned to whole minutes so consecutive polls cover
 * consecutive, non-overlapping minutes (no sample published twice, none skipped).
 */
export function queryWindow(nowMs: number, delaySeconds: number): QueryWindow {
  const until = Math.floor(nowMs / 60000) * 60 - delaySeconds;
  return { since: until - 60, until };
}

const quote = (v: string): string => `'${v}'`;

/** One NRQL statement per metric for every mapped service: FACET on the service attribute, explicit SINCE/UNTIL. */
export function buildNrql(config: BridgeConfig, metric: MetricSpec, window: QueryWindow): string {
  const attr = `\`${config.facetAttribute}\``;
  const facets = [...new Set(config.services.map((s) => s.facet))].sort().map(quote).join(', ');
  const parts = [
    `SELECT ${metric.select} AS 'value' FROM ${metric.from ?? config.from}`,
    `WHERE ${attr} IN (${facets})`,
    `FACET ${attr}`,
    `SINCE ${window.since * 1000} UNTIL ${window.until * 1000}`,
  ];
  if (config.samplesPerMinute > 1) parts.push(`TIMESERIES ${60 / config.samplesPerMinute} seconds`);
  parts.push('LIMIT MAX');
  return parts.join(' ');
}

export interface Sample {
  /** Index of the metric in `config.metrics`. */
  readonly metric: number;
  readonly facet: string;
  /** Epoch seconds at which the sample's bucket begins. */
  readonly timestamp: number;
  /** null when New Relic has no data for the bucket. */
  readonly value: number | null;
}

export type QueryResult =
  | { readonly ok: true; readonly samples: Sample[] }
  | { readonly ok: false; readonly reason: string };

export interface HttpDeps {
  readonly fetch: typeof fetch;
  readonly sleep: (ms: number) => Promise<void>;
  readonly log: Log;
  /** Random source for backoff jitter; injectable so tests are deterministic. */
  readonly random?: () => number;
}

const RETRYABLE_STATUS = (status: number): boolean => status === 429 || status >= 500;
const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 4000;

function backoffMs(attempt: number, retryAfter: string | null, random: () => number): number {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, BACKOFF_CAP_MS);
  // Full jitter: polls of many bridges hitting one account do not retry in lockstep.
  return Math.floor(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** attempt));
}

/** Posts the query, retrying 429/5xx/timeouts/network errors with backoff; never throws. */
export async function runQuery(config: BridgeConfig, apiKey: string, window: QueryWindow, deps: HttpDeps): Promise<QueryResult> {
  const random = deps.random ?? Math.random;
  const variables: Record<string, unknown> = { accountId: config.accountId };
  config.metrics.forEach((m, i) => { variables[`q${i}`] = buildNrql(config, m, window); });
  const body = JSON.stringify({ query: nrqlDocument(config.metrics.length), variables });
  let lastReason = 'no attempt made';
  /** True when the previous attempt already waited for the server's Retry-After. */
  let waited = false;
  for (let attempt = 0; attempt < config.maxAttempts; attempt++) {
    if (attempt > 0 && !waited) {
      const wait = backoffMs(attempt - 1, null, random);
      await deps.sleep(wait);
    }
    waited = false;
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.attemptTimeoutMs);
    try {
      const res = await deps.fetch(config.endpoint, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'API-Key': apiKey },
        body,
        signal: controller.signal,
      });
      const text = await res.text();
      if (RETRYABLE_STATUS(res.status)) {
        lastReason = `NerdGraph answered HTTP ${res.status}`;
        deps.log.warn('NerdGraph request failed; retrying if attempts remain', { attempt: attempt + 1, status: res.status, maxAttempts: config.maxAttempts });
        const retryAfter = res.headers.get('retry-after');
        waited = retryAfter !== null && attempt + 1 < config.maxAttempts;
        if (waited) await deps.sleep(backoffMs(attempt, retryAfter, random));
        continue;
      }
      if (!res.ok) return { ok: false, reason: `NerdGraph answered HTTP ${res.status} (not retried)` };
      return parseResponse(text, config, window);
    } catch (err) {
      const timedOut = controller.signal.aborted;
      lastReason = timedOut ? `NerdGraph did not answer within ${config.attemptTimeoutMs} ms` : `NerdGraph request failed: ${describeError(err).errorMessage}`;
      deps.log.warn('NerdGraph request failed; retrying if attempts remain', { attempt: attempt + 1, timedOut, ...describeError(err) });
    } finally {
      clearTimeout(timer);
    }
  }
  return { ok: false, reason: `${lastReason} after ${config.maxAttempts} attempt(s)` };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Parses a NerdGraph body; any error or deviation from the expected shape rejects the whole result. */
export function parseResponse(text: string, config: BridgeConfig, window: QueryWindow): QueryResult {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return { ok: false, reason: 'malformed response: body is not JSON' };
  }
  if (!isRecord(doc)) return { ok: false, reason: 'malformed response: body is not a JSON object' };
  // GraphQL reports errors beside partial data; any non-null `errors` (a list, an object, a string)
  // means the numbers cannot be trusted, so none are published.
  if (doc.errors !== undefined && doc.errors !== null) {
    const list = Array.isArray(doc.errors) ? doc.errors : [doc.errors];
    const messages = list.map((e) => (isRecord(e) ? String(e.message) : String(e))).join('; ');
    return { ok: false, reason: `NerdGraph returned errors: ${messages || JSON.stringify(doc.errors)}` };
  }
  const account = isRecord(doc.data) && isRecord(doc.data.actor) && isRecord(doc.data.actor.account) ? doc.data.actor.account : undefined;
  const timeseries = config.samplesPerMinute > 1;
  const samples: Sample[] = [];
  let rows = 0;
  for (const [m, metric] of config.metrics.entries()) {
    const alias = `q${m}`;
    const block = account?.[alias];
    const results = isRecord(block) ? block.results : undefined;
    if (!Array.isArray(results)) return { ok: false, reason: `malformed response: data.actor.account.${alias}.results is not an array` };
    rows += results.length;
    for (const [i, row] of results.entries()) {
      const at = `${alias}.results[${i}]`;
      if (!isRecord(row)) return { ok: false, reason: `malformed response: ${at} is not an object` };
      const facet = Array.isArray(row.facet) && row.facet.length === 1 ? row.facet[0] : row.facet;
      if (typeof facet !== 'string') return { ok: false, reason: `malformed response: ${at}.facet is not a string` };
      const value = row.value;
      if (value !== null && (typeof value !== 'number' || !Number.isFinite(value))) {
        return { ok: false, reason: `malformed response: ${at}.value (${JSON.stringify(value)}) is not a number (${metric.metricName})` };
      }
      let timestamp = window.since;
      if (timeseries) {
        if (typeof row.beginTimeSeconds !== 'number') return { ok: false, reason: `malformed response: ${at}.beginTimeSeconds is missing` };
        timestamp = row.beginTimeSeconds;
      }
      samples.push({ metric: m, facet, value, timestamp });
    }
  }
  if (rows === 0) return { ok: false, reason: 'empty results: New Relic returned no rows for the mapped services' };
  return { ok: true, samples };
}
