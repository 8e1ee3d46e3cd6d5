// The bridge's configuration, passed by the construct as environment variables.

export interface ServiceMapping {
  /** Value of the facet attribute in New Relic (e.g. the APM appName). */
  readonly facet: string;
  /** Value of the CloudWatch dimension the metric is published under. */
  readonly dimension: string;
}

export interface BridgeConfig {
  readonly endpoint: string;
  readonly accountId: number;
  readonly apiKeySecretArn: string;
  /** NRQL aggregate expression, e.g. `average(newrelic.unicorn.busy_ratio)`. */
  readonly select: string;
  /** NRQL event type to query (`FROM ...`). */
  readonly from: string;
  readonly facetAttribute: string;
  readonly services: readonly ServiceMapping[];
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensionName: string;
  readonly unit: string;
  /** 1 = one sample per minute (standard resolution); more = TIMESERIES buckets and high-resolution metrics. */
  readonly samplesPerMinute: number;
  /** How far behind "now" the queried minute ends, so New Relic has ingested it. */
  readonly delaySeconds: number;
  readonly attemptTimeoutMs: number;
  readonly maxAttempts: number;
}

/** Names and syntax a value may use inside the generated NRQL: no quotes, backticks or newlines. */
export const SAFE_NRQL_VALUE = /^[^'"`\\\n\r]+$/;

/**
 * Reads `NEW_RELIC_ENDPOINT`, `NEW_RELIC_API_KEY_SECRET_ARN` and `BRIDGE_CONFIG` (compact JSON:
 * services are `"name"` when facet and dimension agree, else `["facet", "dimension"]`).
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
  const config: BridgeConfig = {
    endpoint,
    apiKeySecretArn,
    accountId: Number(c.accountId),
    select: String(c.select),
    from: String(c.from),
    facetAttribute: String(c.facetAttribute),
    services,
    namespace: String(c.namespace),
    metricName: String(c.metricName),
    dimensionName: String(c.dimensionName),
    unit: String(c.unit),
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
  for (const v of [c.facetAttribute, c.from, ...c.services.map((s) => s.facet)]) {
    if (!SAFE_NRQL_VALUE.test(v)) throw new Error(`${JSON.stringify(v)} may not contain quotes, backticks, backslashes or newlines`);
  }
  if (![1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60].includes(c.samplesPerMinute)) {
    throw new Error(`samplesPerMinute (${c.samplesPerMinute}) must divide 60 seconds evenly`);
  }
}
