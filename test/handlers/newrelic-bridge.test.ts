import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateSecretCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { poll } from '../../handlers/newrelic-bridge/bridge';
import { BridgeConfig, configFromEnv } from '../../handlers/newrelic-bridge/config';
import { buildNrql, queryWindow } from '../../handlers/newrelic-bridge/nerdgraph';
import { MotoServer, startMoto } from '../support/moto';
import { CapturedLogger, captureLogger } from './scaling-support/logs';
import { FakeNerdGraph, nrqlResults } from './scaling-support/nerdgraph-server';

// 2026-11-26T03:30:20Z: the queried minute is 03:28:00–03:29:00 (one minute of ingestion delay).
const NOW = Date.UTC(2026, 10, 26, 3, 30, 20);
const MINUTE_START = Date.UTC(2026, 10, 26, 3, 28, 0) / 1000;
const NAMESPACE = 'Test/NewRelic';

let moto: MotoServer;
let nerdgraph: FakeNerdGraph;
let secrets: SecretsManagerClient;
let cloudwatch: CloudWatchClient;
let secretArn: string;
let log: CapturedLogger;

function config(overrides: Partial<BridgeConfig> = {}): BridgeConfig {
  return {
    endpoint: nerdgraph.url,
    accountId: 1234567,
    apiKeySecretArn: secretArn,
    from: 'Metric',
    facetAttribute: 'appName',
    services: [{ facet: 'rails-web', dimension: 'web' }, { facet: 'rails-api', dimension: 'api' }],
    metrics: [{ metricName: 'BusyWorkerRatio', select: 'average(unicorn.busy_ratio)', unit: 'Percent', min: 0, max: 100 }],
    namespace: NAMESPACE,
    dimensionName: 'ServiceName',
    samplesPerMinute: 1,
    delaySeconds: 60,
    attemptTimeoutMs: 300,
    maxAttempts: 3,
    ...overrides,
  };
}

const sleeps: number[] = [];
const deps = () => ({
  secrets, cloudwatch, fetch: globalThis.fetch, log: log.logger, now: () => NOW, random: () => 0.5,
  sleep: async (ms: number) => { sleeps.push(ms); },
});

async function publishedMetrics() {
  const out = await cloudwatch.send(new ListMetricsCommand({ Namespace: NAMESPACE }));
  return out.Metrics ?? [];
}

beforeAll(async () => {
  moto = await startMoto();
  nerdgraph = new FakeNerdGraph();
  await nerdgraph.start();
  secrets = new SecretsManagerClient(moto.clientConfig);
  cloudwatch = new CloudWatchClient(moto.clientConfig);
});

afterAll(async () => {
  await nerdgraph.stop();
  await moto.stop();
});

beforeEach(async () => {
  await moto.reset();
  const secret = await secrets.send(new CreateSecretCommand({ Name: 'newrelic/user-key', SecretString: JSON.stringify({ apiKey: 'NRAK-TEST' }) }));
  secretArn = secret.ARN!;
  sleeps.length = 0;
  log = captureLogger();
});

afterEach(() => log.restore());

describe('a healthy poll', () => {
  test('publishes one datum per mapped service that CloudWatch returns', async () => {
    // GIVEN
    nerdgraph.respondWith({ body: nrqlResults([{ facet: 'rails-web', appName: 'rails-web', value: 82.5 }, { facet: 'rails-api', appName: 'rails-api', value: 12 }]) });
    // WHEN
    const outcome = await poll(config(), deps());
    // THEN
    expect(outcome.published).toBe(2);
    const metrics = await publishedMetrics();
    expect(metrics.map((m) => m.Dimensions?.[0].Value).sort()).toEqual(['api', 'web']);
    const data = await cloudwatch.send(new GetMetricDataCommand({
      StartTime: new Date((MINUTE_START - 60) * 1000), EndTime: new Date((MINUTE_START + 120) * 1000),
      MetricDataQueries: [{ Id: 'web', MetricStat: { Metric: { Namespace: NAMESPACE, MetricName: 'BusyWorkerRatio', Dimensions: [{ Name: 'ServiceName', Value: 'web' }] }, Period: 60, Stat: 'Maximum' } }],
    }));
    expect(data.MetricDataResults?.[0].Values).toEqual([82.5]);
    expect(data.MetricDataResults?.[0].Timestamps?.[0].getTime()).toBe(MINUTE_START * 1000);
  });

  test('sends exactly one NerdGraph request with the key from Secrets Manager and a FACET query with explicit SINCE', async () => {
    // GIVEN
    nerdgraph.respondWith({ body: nrqlResults([{ facet: 'rails-web', value: 50 }]) });
    // WHEN
    await poll(config(), deps());
    // THEN
    expect(nerdgraph.requests).toHaveLength(1);
    const [req] = nerdgraph.requests;
    expect(req.headers['api-key']).toBe('NRAK-TEST');
    expect(req.body.variables.accountId).toBe(1234567);
    expect(req.body.query).toContain('actor { account(id: $accountId) { q0: nrql(query: $q0) { results } } }');
    expect((req.body.variables as unknown as Record<string, string>).q0).toBe(
      "SELECT average(unicorn.busy_ratio) AS 'value' FROM Metric WHERE `appName` IN ('rails-api', 'rails-web') FACET `appName` "
      + `SINCE ${MINUTE_START * 1000} UNTIL ${(MINUTE_START + 60) * 1000} LIMIT MAX`,
    );
  });

  test('leaves a service without data missing instead of publishing zero', async () => {
    // GIVEN
    nerdgraph.respondWith({ body: nrqlResults([{ facet: 'rails-web', value: 40 }, { facet: 'rails-api', value: null }]) });
    // WHEN
    const outcome = await poll(config(), deps());
    // THEN
    expect(outcome.published).toBe(1);
    expect((await publishedMetrics()).map((m) => m.Dimensions?.[0].Value)).toEqual(['web']);
    expect(log.lines().map((l) => l.message).join('\n')).toMatch(/No data from New Relic for some services/);
  });

  test('asks for TIMESERIES buckets and publishes high-resolution datums when several samples a minute are wanted', async () => {
    // GIVEN
    const rows = [0, 15, 30, 45].map((s) => ({ facet: 'rails-web', beginTimeSeconds: MINUTE_START + s, endTimeSeconds: MINUTE_START + s + 15, value: s }));
    nerdgraph.respondWith({ body: nrqlResults(rows) });
    const sent: PutMetricDataCommand[] = [];
    const recording = { send: async (c: PutMetricDataCommand) => { sent.push(c); return {}; } } as unknown as CloudWatchClient;
    // WHEN
    const outcome = await poll(config({ samplesPerMinute: 4 }), { ...deps(), cloudwatch: recording });
    // THEN
    expect((nerdgraph.requests[0].body.variables as unknown as Record<string, string>).q0).toContain('TIMESERIES 15 seconds');
    expect(outcome.published).toBe(4);
    expect(sent).toHaveLength(1);
    expect(sent[0].input.MetricData?.map((d) => [d.Timestamp?.getTime(), d.StorageResolution])).toEqual(
      [0, 15, 30, 45].map((s) => [(MINUTE_START + s) * 1000, 1]),
    );
  });

  test('retries a 429 with backoff and publishes once New Relic answers', async () => {
    // GIVEN
    nerdgraph.respondWith({ status: 429, body: 'slow down', headers: { 'retry-after': '1' } }, { body: nrqlResults([{ facet: 'rails-web', value: 70 }]) });
    // WHEN
    const outcome = await poll(config(), deps());
    // THEN
    expect(nerdgraph.requests).toHaveLength(2);
    expect(sleeps).toContain(1000);
    expect(outcome.published).toBe(1);
  });

  test('waits only the Retry-After time before the next attempt, not a backoff on top of it', async () => {
    // GIVEN a 429 with Retry-After, then an answer
    nerdgraph.respondWith({ status: 429, body: 'slow down', headers: { 'retry-after': '1' } }, { body: nrqlResults([{ facet: 'rails-web', value: 70 }]) });
    // WHEN
    const outcome = await poll(config(), { ...deps(), random: () => 0.99 });
    // THEN the one wait between the two attempts is the server's
    expect(sleeps).toEqual([1000]);
    expect(outcome.published).toBe(1);
  });
});

describe('faults publish nothing and log why', () => {
  test.each([
    ['HTTP 500 on every attempt', [{ status: 500, body: 'oops' }], /HTTP 500 after 3 attempt/],
    ['HTTP 429 on every attempt', [{ status: 429, body: 'limited' }], /HTTP 429 after 3 attempt/],
    ['a timeout on every attempt', [{ delayMs: 1500, body: nrqlResults([{ facet: 'rails-web', value: 99 }]) }], /did not answer within 300 ms after 3 attempt/],
    ['a body that is not JSON', [{ body: '<html>maintenance</html>' }], /malformed response: body is not JSON/],
    ['a body without results', [{ body: { data: { actor: null } } }], /malformed response: data.actor.account.q0.results is not an array/],
    ['a non-numeric value', [{ body: nrqlResults([{ facet: 'rails-web', value: 'high' }]) }], /q0.results\[0\].value \("high"\) is not a number/],
    ['empty results', [{ body: nrqlResults([]) }], /empty results/],
    ['GraphQL errors', [{ body: { errors: [{ message: 'NRQL Syntax Error' }], data: null } }], /NerdGraph returned errors: NRQL Syntax Error/],
    ['HTTP 401 (not retried)', [{ status: 401, body: 'unauthorized' }], /HTTP 401 \(not retried\)/],
  ])('%s', async (_name, responses, why) => {
    // GIVEN
    nerdgraph.respondWith(...responses);
    // WHEN
    const outcome = await poll(config(), deps());
    // THEN
    expect(outcome.published).toBe(0);
    expect(outcome.skippedBecause).toMatch(why);
    expect(await publishedMetrics()).toEqual([]);
    expect(log.problems()).toMatch(new RegExp(`Published nothing: .*${why.source}`));
  });

  test('a missing API key secret publishes nothing and never calls New Relic', async () => {
    // GIVEN
    nerdgraph.respondWith({ body: nrqlResults([{ facet: 'rails-web', value: 99 }]) });
    // WHEN
    const outcome = await poll(config({ apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:missing-AbCdEf' }), deps());
    // THEN
    expect(outcome.published).toBe(0);
    expect(nerdgraph.requests).toHaveLength(0);
    expect(log.problems()).toMatch(/Published nothing: the New Relic API key secret could not be read/);
  });
});

describe('configuration', () => {
  test('reads the compact BRIDGE_CONFIG the construct writes', () => {
    // GIVEN
    const env = {
      NEW_RELIC_ENDPOINT: 'https://api.newrelic.com/graphql',
      NEW_RELIC_API_KEY_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nr-AbCdEf',
      BRIDGE_CONFIG: JSON.stringify({ accountId: 42, select: 'max(x)', from: 'Metric', facetAttribute: 'appName', services: ['web', ['rails-api', 'api']], namespace: 'N', metricName: 'M', dimensionName: 'ServiceName', unit: 'Percent', samplesPerMinute: 2 }),
    };
    // WHEN
    const c = configFromEnv(env);
    // THEN
    expect(c.services).toEqual([{ facet: 'web', dimension: 'web' }, { facet: 'rails-api', dimension: 'api' }]);
    expect(buildNrql(c, c.metrics[0], queryWindow(NOW, 60))).toContain('TIMESERIES 30 seconds');
    expect(c.metrics).toEqual([{ metricName: 'M', select: 'max(x)', unit: 'Percent', min: 0, max: 100 }]);
  });

  test('fails when a facet value could break out of the NRQL string', () => {
    // GIVEN
    const env = {
      NEW_RELIC_ENDPOINT: 'https://api.newrelic.com/graphql', NEW_RELIC_API_KEY_SECRET_ARN: 'arn',
      BRIDGE_CONFIG: JSON.stringify({ accountId: 42, select: 'max(x)', from: 'Metric', facetAttribute: 'appName', services: ["web') OR true --"], namespace: 'N', metricName: 'M', dimensionName: 'D', unit: 'None' }),
    };
    // WHEN / THEN
    expect(() => configFromEnv(env)).toThrow(/"web'\) OR true --" may not contain quotes/);
  });
});
