// The bridge's configuration, passed by the construct as environment variables.

export interface ServiceMapping {
  /** Value of the facet attribute in New Relic (e.g. the APM appName). */
  readonly facet: string;
  /** Value of the CloudWatch dimension the metric is published under. */
  readonly dimension: string;
}

/** One published metric: its NRQL aggregate and the range a real value can take. */
export interface MetricSpec {
  /** CloudWatch metric name. */
  readonly metricName: string;
  /** NRQL aggregate expression, e.g. `average(newrelic.unicorn.busy_ratio)`. */
  readonly select: string;
  /** NRQL event type (`FROM ...`); the bridge's when unset. */
  readonly from?: string;
  readonly unit: string;
  /** Smallest value that can be real (inclusive); anything lower is dropped and logged. */
  readonly min: number;
  /** Largest value that can be real (inclusive); anything higher is dropped and logged. */
  readonly max?: number;
}

export interface BridgeConfig {
  readonly endpoint: string;
  readonly accountId: number;
  readonly apiKeySecretArn: string;
  /** NRQL event type to query (`FROM ...`) unless a metric names its own. */
  readonly from: string;
  readonly facetAttribute: string;
  readonly services: readonly ServiceMapping[];
  /** Every metric is fetched in the same NerdGraph request (one aliased NRQL query each). */
  readonly metrics: readonly MetricSpec[];
  readonly namespace: string;
  readonly dimensionName: string;
  /** 1 = one sample per minute (standard resolution); more = TIMESERIES buckets and high-resolution metrics. */
  readonly samplesPerMinute: number;
  /** How far behind "now" the queried minute ends, so New Relic has ingested it. */
  readonly delaySeconds: number;
  readonly attemptTimeoutMs: number;
  readonly maxAttempts: number;
}

/** Names and syntax a value may use inside the generated NRQL: no quotes, backticks or newlines. */
export const SAFE_NRQL_VALUE = /^[^'"`\\\n\r]+$/;
const METRIC_NAME = /^[A-Za-z0-9_.\-/#:]{1,255}$/;

/** Bounds a metric gets when it declares none: a percentage is 0-100, anything else (counts, latencies) >= 0. */
export function defaultBounds(unit: string): { min: number; max?: number } {
  return unit === 'Percent' ? { min: 0, max: 100 } : { min: 0 };
}

/**
 * Reads `NEW_RELIC_ENDPOINT`, `NEW_RELIC_API_KEY_SECRET_ARN` and `BRIDGE_CONFIG` (compact JSON:
 * services are `"name"` when facet and dimension agree, else `["facet", "dimension"]`; metrics are
 * `{ metricName, select, unit, min?, max?, from? }`, or one metric given as top-level `select` / `metricName` / `unit`).
 */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): BridgeConfig {
  const endpoint = env.NEW_RELIC_ENDPOINT;
  const apiKeySecretArn = env.NEW_RELIC_API_KEY_SECRET_ARN;
  const raw = env.BRIDGE_CONFIG;
  if (!endpoint || !apiKeySecretArn || !raw) {
    throw new Error('NEW_RELIC_ENDPOINT, NEW_RELIC_API_KEY_SECRET_ARN and BRIDGE_CONFIG must all be set');
  }
  const c = JSON.parse(raw) as Record<string, unknown>;
  const services = (c.services as unknown[]).map((s): ServiceMapping => {
    if (typeof s === 'string') return { facet: s, dimension: s };
    const [facet, dimension] = s as [string, string];
    return { facet, dimension };
  });
  const rawMetrics = Array.isArray(c.metrics) ? c.metrics as Array<Record<string, unknown>> : [{ metricName: c.metricName, select: c.select, unit: c.unit, min: c.min, max: c.max }];
  const metrics = rawMetrics.map((m): MetricSpec => {
    const unit = String(m.unit ?? 'None');
    const bounds = defaultBounds(unit);
    return {
      metricName: String(m.metricName), select: String(m.select), unit,
      ...(m.from !== undefined ? { from: String(m.from) } : {}),
      min: m.min === undefined || m.min === null ? bounds.min : Number(m.min),
      ...(m.max !== undefined && m.max !== null ? { max: Number(m.max) } : bounds.max !== undefined ? { max: bounds.max } : {}),
    };
  });
  const config: BridgeConfig = {
    endpoint,
    apiKeySecretArn,
    accountId: Number(c.accountId),
    from: String(c.from),
    facetAttribute: String(c.facetAttribute),
    services,
    metrics,
    namespace: String(c.namespace),
    dimensionName: String(c.dimensionName),
    samplesPerMinute: Number(c.samplesPerMinute ?? 1),
    delaySeconds: Number(c.delaySeconds ?? 60),
    attemptTimeoutMs: Number(c.attemptTimeoutMs ?? 8000),
    maxAttempts: Number(c.maxAttempts ?? 3),
  };
  validateConfig(config);
  return config;
}

export function validateConfig(c: BridgeConfig): void {
  if (!Number.isInteger(c.accountId) || c.accountId <= 0) throw new Error(`accountId (${c.accountId}) must be a positive integer`);
  if (c.services.length === 0) throw new Error('services must not be empty');
  if (c.metrics.length === 0) throw new Error('metrics must not be empty');
  for (const v of [c.facetAttribute, c.from, ...c.metrics.flatMap((m) => (m.from ? [m.from] : [])), ...c.services.map((s) => s.facet)]) {
    if (!SAFE_NRQL_VALUE.test(v)) throw new Error(`${JSON.stringify(v)} may not contain quotes, backticks, backslashes or newlines`);
  }
  for (const m of c.metrics) {
    if (!METRIC_NAME.test(m.metricName)) throw new Error(`metricName (${JSON.stringify(m.metricName)}) is not a CloudWatch metric name`);
    if (!Number.isFinite(m.min) || (m.max !== undefined && !(Number.isFinite(m.max) && m.max > m.min))) {
      throw new Error(`metric ${m.metricName}: bounds (${m.min}..${m.max}) must be finite with min below max`);
    }
  }
  if (new Set(c.metrics.map((m) => m.metricName)).size !== c.metrics.length) throw new Error('metric names must be unique');
  if (![1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].includes(c.samplesPerMinute)) {
    throw new Error(`samplesPerMinute (${c.samplesPerMinute}) must divide 60 seconds evenly`);
  }
}
