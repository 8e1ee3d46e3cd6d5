// One poll: read the API key, fetch every metric of every service in ONE NerdGraph request, publish the
// samples that are in range to CloudWatch.
import { CloudWatchClient, MetricDatum, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Log, chunk, describeError } from '../shared/runtime';
import { BridgeConfig, MetricSpec } from './config';
import { QueryWindow, Sample, queryWindow, runQuery } from './nerdgraph';

/** CloudWatch accepts up to 1,000 datums per PutMetricData request. */
export const PUT_METRIC_DATA_BATCH = 1000;

export interface BridgeDeps {
  readonly secrets: Pick<SecretsManagerClient, 'send'>;
  readonly cloudwatch: Pick<CloudWatchClient, 'send'>;
  readonly fetch: typeof fetch;
  readonly log: Log;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly random?: () => number;
}

export interface PollOutcome {
  /** Datums sent to CloudWatch. */
  readonly published: number;
  /** Samples dropped one by one because they were out of their metric's range (or CloudWatch's). */
  readonly dropped?: number;
  /**
   * True when a fault (not merely missing data) kept samples from CloudWatch: the function entry then
   * fails the invocation, so the bridge's error alarm sees it.
   */
  readonly failed?: boolean;
  /** Why nothing was published, when nothing was. */
  readonly skippedBecause?: string;
  readonly window?: QueryWindow;
}

/** Reads the user API key at run time: either the whole SecretString or its `apiKey` JSON field. */
export async function readApiKey(secrets: BridgeDeps['secrets'], secretArn: string): Promise<string | undefined> {
  const out = await secrets.send(new GetSecretValueCommand({ SecretId: secretArn }));
  const raw = out.SecretString?.trim();
  if (!raw) return undefined;
  if (raw.startsWith('{')) {
    try {
      const parsed = JSON.parse(raw) as { apiKey?: unknown };
      return typeof parsed.apiKey === 'string' && parsed.apiKey.length > 0 ? parsed.apiKey : undefined;
    } catch {
      return undefined;
    }
  }
  return raw;
}

/** CloudWatch rejects a whole PutMetricData request for one value outside these magnitudes (or NaN/Infinity). */
const CLOUDWATCH_MIN_MAGNITUDE = 8.515920e-109;
const CLOUDWATCH_MAX_MAGNITUDE = 1.174271e+108;

/** Why a value cannot be published, or undefined when it can. */
export function outOfRange(value: number, metric: MetricSpec): string | undefined {
  if (!Number.isFinite(value)) return 'not a finite number';
  if (value < metric.min) return `below the metric's minimum ${metric.min}`;
  if (metric.max !== undefined && value > metric.max) return `above the metric's maximum ${metric.max}`;
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < CLOUDWATCH_MIN_MAGNITUDE || magnitude > CLOUDWATCH_MAX_MAGNITUDE)) return 'outside the range CloudWatch accepts';
  return undefined;
}

/**
 * Turns samples into datums; unknown facets, empty buckets, stale buckets and out-of-range values are
 * left out one by one (missing data, never zero, never an impossible value).
 */
export function toDatums(config: BridgeConfig, samples: readonly Sample[], log: Log, window?: QueryWindow): { datums: MetricDatum[]; dropped: number } {
  const byFacet = new Map<string, string[]>();
  for (const s of config.services) byFacet.set(s.facet, [...(byFacet.get(s.facet) ?? []), s.dimension]);
  const datums: MetricDatum[] = [];
  const unknown = new Set<string>();
  const seen = new Set<string>();
  const dropped: Array<Record<string, unknown>> = [];
  for (const sample of samples) {
    const metric = config.metrics[sample.metric];
    const dimensions = byFacet.get(sample.facet);
    if (!dimensions) {
      unknown.add(sample.facet);
      continue;
    }
    if (sample.value === null) continue;
    if (window && (sample.timestamp < window.since || sample.timestamp >= window.until)) {
      dropped.push({ metricName: metric.metricName, facet: sample.facet, timestamp: sample.timestamp, why: `outside the queried minute ${window.since}-${window.until} (stale or early)` });
      continue;
    }
    const why = outOfRange(sample.value, metric);
    if (why) {
      dropped.push({ metricName: metric.metricName, facet: sample.facet, value: sample.value, why });
      continue;
    }
    seen.add(`${sample.metric}\u0000${sample.facet}`);
    for (const dimension of dimensions) {
      datums.push({
        MetricName: metric.metricName,
        Dimensions: [{ Name: config.dimensionName, Value: dimension }],
        Timestamp: new Date(sample.timestamp * 1000),
        Value: sample.value,
        Unit: metric.unit as StandardUnit,
        StorageResolution: config.samplesPerMinute > 1 ? 1 : 60,
      });
    }
  }
  if (unknown.size > 0) log.warn('Ignored rows for facets that are not mapped', { facets: [...unknown].sort() });
  if (dropped.length > 0) log.warn('Dropped samples that cannot be real; their metric stays missing for that minute', { dropped });
  const missing = config.metrics.flatMap((m, i) => config.services.filter((s) => !seen.has(`${i}\u0000${s.facet}`)).map((s) => `${m.metricName}/${s.facet}`));
  if (missing.length > 0) log.info('No data from New Relic for some services; their metric stays missing (never scales in)', { missing: [...new Set(missing)].sort() });
  return { datums, dropped: dropped.length };
}

export async function poll(config: BridgeConfig, deps: BridgeDeps): Promise<PollOutcome> {
  const skip = (reason: string, extra: object = {}, failed = true): PollOutcome => {
    deps.log.warn(`Published nothing: ${reason}`, { reason, ...extra });
    return { published: 0, skippedBecause: reason, failed };
  };
  let apiKey: string | undefined;
  try {
    apiKey = await readApiKey(deps.secrets, config.apiKeySecretArn);
  } catch (err) {
    return skip('the New Relic API key secret could not be read', describeError(err));
  }
  if (!apiKey) return skip('the New Relic API key secret is empty or has no apiKey field');

  const window = queryWindow(deps.now(), config.delaySeconds);
  const result = await runQuery(config, apiKey, window, { fetch: deps.fetch, sleep: deps.sleep, log: deps.log, random: deps.random });
  if (!result.ok) return { ...skip(result.reason, { window }), window };


  const { datums, dropped } = toDatums(config, result.samples, deps.log, window);
  if (datums.length === 0) return { ...skip('no mapped service had a usable value in the queried window', { window }, false), window, dropped };

  let published = 0;
  const failures: string[] = [];
  // Every batch is tried: one refused batch does not cost the other services their minute.
  for (const batch of chunk(datums, PUT_METRIC_DATA_BATCH)) {
    try {
      await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: config.namespace, MetricData: batch }));
      published += batch.length;
    } catch (err) {
      failures.push(describeError(err).errorMessage);
      deps.log.error('PutMetricData failed; these samples are lost for this minute and the invocation fails', { lost: batch.length, ...describeError(err) });
    }
  }
  if (failures.length > 0) return { published, dropped, failed: true, skippedBecause: `PutMetricData failed: ${failures.join('; ')}`, window };
  deps.log.info('Published New Relic samples to CloudWatch', { published, dropped, window, namespace: config.namespace, metrics: config.metrics.map((m) => m.metricName) });
  return { published, dropped, window };
}
