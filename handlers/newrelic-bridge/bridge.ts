// One poll: read the API key, run one NRQL query for all services, publish the samples to CloudWatch.
import { CloudWatchClient, MetricDatum, PutMetricDataCommand, StandardUnit } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Log, chunk, describeError } from '../shared/runtime';
import { BridgeConfig } from './config';
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

/** Turns samples into datums; unknown facets and empty buckets are left out (missing data, never zero). */
export function toDatums(config: BridgeConfig, samples: readonly Sample[], log: Log): MetricDatum[] {
  const byFacet = new Map<string, string[]>();
  for (const s of config.services) byFacet.set(s.facet, [...(byFacet.get(s.facet) ?? []), s.dimension]);
  const datums: MetricDatum[] = [];
  const unknown = new Set<string>();
  const seen = new Set<string>();
  for (const sample of samples) {
    const dimensions = byFacet.get(sample.facet);
    if (!dimensions) {
      unknown.add(sample.facet);
      continue;
    }
    if (sample.value === null) continue;
    seen.add(sample.facet);
    for (const dimension of dimensions) {
      datums.push({
        MetricName: config.metricName,
        Dimensions: [{ Name: config.dimensionName, Value: dimension }],
        Timestamp: new Date(sample.timestamp * 1000),
        Value: sample.value,
        Unit: config.unit as StandardUnit,
        StorageResolution: config.samplesPerMinute > 1 ? 1 : 60,
      });
    }
  }
  if (unknown.size > 0) log.warn('Ignored rows for facets that are not mapped', { facets: [...unknown].sort() });
  const missing = config.services.map((s) => s.facet).filter((f) => !seen.has(f));
  if (missing.length > 0) log.info('No data from New Relic for some services; their metric stays missing (never scales in)', { facets: [...new Set(missing)].sort() });
  return datums;
}

export async function poll(config: BridgeConfig, deps: BridgeDeps): Promise<PollOutcome> {
  const skip = (reason: string, extra: object = {}): PollOutcome => {
    deps.log.warn(`Published nothing: ${reason}`, { reason, ...extra });
    return { published: 0, skippedBecause: reason };
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

  const datums = toDatums(config, result.samples, deps.log);
  if (datums.length === 0) return { ...skip('no mapped service had a value in the queried window', { window }), window };

  let published = 0;
  for (const batch of chunk(datums, PUT_METRIC_DATA_BATCH)) {
    try {
      await deps.cloudwatch.send(new PutMetricDataCommand({ Namespace: config.namespace, MetricData: batch }));
      published += batch.length;
    } catch (err) {
      deps.log.error('PutMetricData failed; the remaining samples of this poll are dropped', { published, dropped: datums.length - published, ...describeError(err) });
      return { published, skippedBecause: 'PutMetricData failed', window };
    }
  }
  deps.log.info('Published New Relic samples to CloudWatch', { published, window, namespace: config.namespace, metricName: config.metricName });
  return { published, window };
}
