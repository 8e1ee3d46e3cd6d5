// Fault matrix of the New Relic bridge: NerdGraph stood in for on 127.0.0.1, CloudWatch and Secrets
// Manager on moto_server (with CloudWatch's real value range enforced in front of it). "Harmful" here
// means: a value published that cannot be real (it could scale a service in or out), a value published
// from an answer that carried errors, a fault that ends the invocation as a success (no error alarm),
// or more than one NerdGraph request in a poll without retries.
import { CloudWatchClient, GetMetricDataCommand, ListMetricsCommand, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { CreateSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { BridgeDeps, poll, PollOutcome } from '../../handlers/newrelic-bridge/bridge';
import { BridgeConfig, MetricSpec } from '../../handlers/newrelic-bridge/config';
import { MotoServer, startMoto } from '../support/moto';
import { CapturedLogger, captureLogger } from './scaling-support/logs';
import { CannedResponse, FakeNerdGraph, nrqlResults } from './scaling-support/nerdgraph-server';
import { throttlingError } from './scaling-support/ecs-fixture';

const NOW = Date.UTC(2026, 10, 26, 3, 30, 20);
const MINUTE_START = Date.UTC(2026, 10, 26, 3, 28, 0) / 1000;
const NAMESPACE = 'Faults/NewRelic';
const BUSY: MetricSpec = { metricName: 'BusyWorkerRatio', select: 'average(unicorn.busy_ratio)', unit: 'Percent', min: 0, max: 100 };
const LATENCY: MetricSpec = { metricName: 'QueueLatency', select: 'max(sidekiq.queue.latency)', unit: 'Seconds', min: 0 };

let moto: MotoServer;
let nerdgraph: FakeNerdGraph;
let secrets: SecretsManagerClient;
let cloudwatch: CloudWatchClient;
let secretArn: string;
let log: CapturedLogger;

function config(overrides: Partial<BridgeConfig> = {}): BridgeConfig {
  return {
    endpoint: nerdgraph.url, accountId: 1234567, apiKeySecretArn: secretArn, from: 'Metric', facetAttribute: 'appName',
    services: [{ facet: 'rails-web', dimension: 'web' }, { facet: 'rails-worker', dimension: 'worker' }],
    metrics: [BUSY, LATENCY], namespace: NAMESPACE, dimensionName: 'ServiceName', samplesPerMinute: 1, delaySeconds: 60, attemptTimeoutMs: 300, maxAttempts: 3,
    ...overrides,
  };
}

/** CloudWatch refuses the WHOLE request when one value is outside its range; this emulates that in front of moto. */
function realCloudWatchLimits(inner: Pick<CloudWatchClient, 'send'>): BridgeDeps['cloudwatch'] {
  return {
    send: async (c: unknown) => {
      if (c instanceof PutMetricDataCommand) {
        const bad = (c.input.MetricData ?? []).find((d) => { const v = Math.abs(d.Value ?? 0); return !Number.isFinite(v) || (v !== 0 && (v < 8.515920e-109 || v > 1.174271e+108)); });
        if (bad) throw Object.assign(new Error(`The value ${bad.Value} for parameter MetricData.member.Value is invalid.`), { name: 'InvalidParameterValue' });
      }
      return inner.send(c as never);
    },
  } as never;
}

interface Row {
  readonly name: string;
  readonly responses: CannedResponse[];
  readonly config?: Partial<BridgeConfig>;
  readonly deps?: (d: BridgeDeps) => Partial<BridgeDeps>;
  readonly concurrent?: number;
  /** Datums that must be published, as `metric/dimension=value`. */
  readonly published: string[];
  /** The invocation must fail (error alarm) — or must not. */
  readonly failed: boolean;
  readonly requests?: number;
  readonly logged: RegExp;
}

const row = (web: unknown, worker: unknown, latencyWeb: unknown = null, latencyWorker: unknown = null) =>
  nrqlResults([{ facet: 'rails-web', value: web }, { facet: 'rails-worker', value: worker }], [{ facet: 'rails-web', value: latencyWeb }, { facet: 'rails-worker', value: latencyWorker }]);

const rows: Row[] = [
  { name: 'a healthy answer for two metrics', responses: [{ body: row(80, 20, 0.5, 12) }], published: ['BusyWorkerRatio/web=80', 'BusyWorkerRatio/worker=20', 'QueueLatency/web=0.5', 'QueueLatency/worker=12'], failed: false, logged: /Published New Relic samples to CloudWatch/ },
  { name: '-50 for a percentage', responses: [{ body: row(-50, 20) }], published: ['BusyWorkerRatio/worker=20'], failed: false, logged: /Dropped samples that cannot be real/ },
  { name: '250 for a percentage', responses: [{ body: row(250, 20) }], published: ['BusyWorkerRatio/worker=20'], failed: false, logged: /Dropped samples that cannot be real/ },
  { name: 'a negative queue latency', responses: [{ body: row(50, 20, -3, 7) }], published: ['BusyWorkerRatio/web=50', 'BusyWorkerRatio/worker=20', 'QueueLatency/worker=7'], failed: false, logged: /below the metric's minimum 0/ },
  { name: 'a latency beyond CloudWatch\'s range does not cost the other services their minute', responses: [{ body: row(50, 20, 1e200, 7) }], published: ['BusyWorkerRatio/web=50', 'BusyWorkerRatio/worker=20', 'QueueLatency/worker=7'], failed: false, logged: /outside the range CloudWatch accepts/ },
  { name: 'a latency too small for CloudWatch', responses: [{ body: row(50, 20, 1e-200, 7) }], published: ['BusyWorkerRatio/web=50', 'BusyWorkerRatio/worker=20', 'QueueLatency/worker=7'], failed: false, logged: /outside the range CloudWatch accepts/ },
  { name: 'GraphQL errors as an object beside data', responses: [{ body: { errors: { message: 'upstream timeout' }, ...(row(0, 0) as object) } }], published: [], failed: true, logged: /NerdGraph returned errors: upstream timeout/ },
  { name: 'GraphQL errors as a string', responses: [{ body: { errors: 'quota exceeded', ...(row(0, 0) as object) } }], published: [], failed: true, logged: /NerdGraph returned errors: quota exceeded/ },
  { name: 'GraphQL errors as an empty list', responses: [{ body: { errors: [], ...(row(10, 10) as object) } }], published: [], failed: true, logged: /NerdGraph returned errors/ },
  { name: 'GraphQL errors list with partial data', responses: [{ body: { errors: [{ message: 'q1 failed', path: ['actor', 'account', 'q1'] }], data: { actor: { account: { q0: { results: [{ facet: 'rails-web', value: 0 }] }, q1: null } } } } }], published: [], failed: true, logged: /NerdGraph returned errors: q1 failed/ },
  { name: 'one aliased query missing from the answer', responses: [{ body: nrqlResults([{ facet: 'rails-web', value: 30 }]) }], published: [], failed: true, logged: /data.actor.account.q1.results is not an array/ },
  { name: 'a value sent as a string', responses: [{ body: row('42', 20) }], published: [], failed: true, logged: /is not a number/ },
  { name: 'no data for one metric stays missing, never zero', responses: [{ body: row(40, null, null, null) }], published: ['BusyWorkerRatio/web=40'], failed: false, logged: /No data from New Relic for some services/ },
  { name: 'no data at all', responses: [{ body: row(null, null) }], published: [], failed: false, logged: /no mapped service had a usable value/ },
  {
    name: 'a stale TIMESERIES bucket', config: { samplesPerMinute: 2, metrics: [BUSY] },
    responses: [{ body: nrqlResults([{ facet: 'rails-web', beginTimeSeconds: MINUTE_START - 600, value: 10 }, { facet: 'rails-web', beginTimeSeconds: MINUTE_START + 30, value: 60 }]) }],
    published: ['BusyWorkerRatio/web=60'], failed: false, logged: /outside the queried minute/,
  },
  { name: 'PutMetricData fails', responses: [{ body: row(50, 20) }], deps: () => ({ cloudwatch: { send: async () => { throw throttlingError(); } } as never }), published: [], failed: true, logged: /PutMetricData failed; these samples are lost/ },
  { name: 'Secrets Manager throttled', responses: [{ body: row(50, 20) }], deps: (d) => ({ secrets: { send: async (c: unknown) => { if (c instanceof GetSecretValueCommand) throw throttlingError(); return d.secrets.send(c as never); } } as never }), published: [], failed: true, requests: 0, logged: /the New Relic API key secret could not be read/ },
  { name: 'HTTP 503 on every attempt', responses: [{ status: 503, body: 'unavailable' }], published: [], failed: true, requests: 3, logged: /HTTP 503 after 3 attempt/ },
  { name: 'a facet New Relic was not asked for', responses: [{ body: nrqlResults([{ facet: 'intruder', value: 99 }, { facet: 'rails-web', value: 30 }], []) }], published: ['BusyWorkerRatio/web=30'], failed: false, logged: /Ignored rows for facets that are not mapped/ },
  { name: 'two overlapping polls publish the same values, one request each', responses: [{ body: row(80, 20) }], concurrent: 2, published: ['BusyWorkerRatio/web=80', 'BusyWorkerRatio/worker=20'], failed: false, requests: 2, logged: /Published New Relic samples/ },
];

beforeAll(async () => {
  moto = await startMoto();
  nerdgraph = new FakeNerdGraph();
  await nerdgraph.start();
  secrets = new SecretsManagerClient(moto.clientConfig);
  cloudwatch = new CloudWatchClient(moto.clientConfig);
});
const harmful: string[] = [];
afterAll(async () => {
  if (process.env.BRIDGE_FAULTS_REPORT) process.stdout.write(`newrelic-bridge fault matrix: ${rows.length} cases, ${harmful.length} harmful\n${harmful.join('\n')}\n`);
  await nerdgraph.stop();
  await moto.stop();
});
beforeEach(async () => {
  await moto.reset();
  secretArn = (await secrets.send(new CreateSecretCommand({ Name: 'newrelic/user-key', SecretString: JSON.stringify({ apiKey: 'NRAK-TEST' }) }))).ARN!;
  log = captureLogger();
});
afterEach(() => log.restore());

async function publishedValues(): Promise<string[]> {
  const metrics = (await cloudwatch.send(new ListMetricsCommand({ Namespace: NAMESPACE }))).Metrics ?? [];
  if (metrics.length === 0) return [];
  const out = await cloudwatch.send(new GetMetricDataCommand({
    StartTime: new Date((MINUTE_START - 900) * 1000), EndTime: new Date((MINUTE_START + 120) * 1000),
    MetricDataQueries: metrics.map((m, i) => ({ Id: `m${i}`, Label: `${m.MetricName}/${m.Dimensions?.[0].Value}`, MetricStat: { Metric: m, Period: 60, Stat: 'Average' } })),
  }));
  return (out.MetricDataResults ?? []).flatMap((r) => (r.Values ?? []).map((v) => `${r.Label}=${v}`)).sort();
}

test.each(rows.map((r) => [r.name, r] as const))('%s: nothing impossible published, faults fail the invocation, the reason is logged', async (_, r) => {
  // GIVEN
  nerdgraph.respondWith(...r.responses);
  const base: BridgeDeps = { secrets, cloudwatch: realCloudWatchLimits(cloudwatch), fetch: globalThis.fetch, log: log.logger, sleep: async () => undefined, now: () => NOW, random: () => 0.5 };
  const deps = { ...base, ...r.deps?.(base) };
  // WHEN
  const outcomes: PollOutcome[] = await Promise.all(Array.from({ length: r.concurrent ?? 1 }, () => poll(config(r.config), deps)));
  // THEN
  const published = await publishedValues();
  const bounds = new Map([BUSY, LATENCY].map((m) => [m.metricName, m]));
  const problems = [
    ...published.filter((p) => {
      const [name, value] = [p.split('/')[0], Number(p.split('=')[1])];
      const m = bounds.get(name)!;
      return value < m.min || (m.max !== undefined && value > m.max);
    }).map((p) => `published an impossible value ${p}`),
    ...published.filter((p) => !r.published.includes(p)).map((p) => `published ${p}, which the answer does not support`),
    ...outcomes.filter((o) => Boolean(o.failed) !== r.failed).map((o) => (r.failed ? `a fault ended as success (${o.skippedBecause ?? 'published'})` : `missing data failed the invocation (${o.skippedBecause})`)),
    ...(nerdgraph.requests.length > (r.requests ?? (r.concurrent ?? 1)) ? [`${nerdgraph.requests.length} NerdGraph requests`] : []),
  ];
  if (problems.length > 0) harmful.push(`${r.name}: ${problems.join('; ')}`);
  expect(problems).toEqual([]);
  expect(published).toEqual([...r.published].sort());
  // AND the reason is in the log
  expect(log.lines().map((l) => `${l.message} ${l.reason ?? ''} ${JSON.stringify(l.dropped ?? '')}`).join('\n')).toMatch(r.logged);
});
