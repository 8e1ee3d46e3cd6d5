#!/usr/bin/env node
/* global Response */
// Scaling handlers: AWS and New Relic calls per bridge poll for 1, 35 and 350 mapped services
// (the compiled bridge logic with counting stub clients), and size plus cold-start module load
// time of each scaling handler bundle (fresh `node` processes, median of 5).
//
// Runs after `npm run build`: the bridge logic comes from dist/handlers (SCALING_BENCH_DIST
// overrides the folder), the bundles from assets/handlers.
const { execFileSync } = require('child_process');
const fs = require('fs');
const path = require('path');
const zlib = require('zlib');

const root = path.resolve(__dirname, '..', '..');
const dist = path.resolve(root, process.env.SCALING_BENCH_DIST || 'dist');
const HANDLERS = ['newrelic-bridge', 'instance-drainer', 'worker-watchdog'];
const SERVICE_COUNTS = [1, 35, 350];
const SAMPLES_PER_MINUTE = [1, 4];
const LOAD_RUNS = 5;

function requireBuilt(rel) {
  const file = path.join(dist, 'handlers', rel);
  if (!fs.existsSync(`${file}.js`)) throw new Error(`${file}.js is missing: run \`npm run build\` first (tsconfig.build.json compiles handlers/ into dist/).`);
  return require(file);
}

/** One poll of the compiled bridge against stubs that count what they are asked. */
async function countPoll(bridge, services, samplesPerMinute) {
  const calls = { secretsManager: 0, putMetricData: 0, newRelic: 0, datums: 0 };
  const config = {
    endpoint: 'https://api.newrelic.com/graphql', accountId: 1234567, apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nr-AbCdEf',
    from: 'Metric', facetAttribute: 'appName',
    services: Array.from({ length: services }, (_, i) => ({ facet: `app-${i}`, dimension: `svc-${i}` })),
    // Two metrics per service (web busy workers, worker queue latency), as the figure asks.
    metrics: [
      { metricName: 'BusyWorkerRatio', select: 'average(unicorn.busy_ratio)', unit: 'Percent', min: 0, max: 100 },
      { metricName: 'QueueLatency', select: 'max(sidekiq.queue.latency)', unit: 'Seconds', min: 0 },
    ],
    namespace: 'NewRelic', dimensionName: 'ServiceName',
    samplesPerMinute, delaySeconds: 60, attemptTimeoutMs: 8000, maxAttempts: 3,
  };
  const now = Date.UTC(2026, 10, 26, 3, 30, 20);
  const since = Math.floor(now / 60000) * 60 - 120;
  const bucket = 60 / samplesPerMinute;
  const rows = config.services.flatMap((s) => Array.from({ length: samplesPerMinute }, (_, k) => ({ facet: s.facet, beginTimeSeconds: since + k * bucket, value: 50 })));
  const account = Object.fromEntries(config.metrics.map((_, i) => [`q${i}`, { results: rows }]));
  const log = { debug() {}, info() {}, warn() {}, error() {} };
  const outcome = await bridge.poll(config, {
    secrets: { send: async () => { calls.secretsManager++; return { SecretString: 'NRAK-BENCH' }; } },
    cloudwatch: { send: async (cmd) => { calls.putMetricData++; calls.datums += cmd.input.MetricData.length; return {}; } },
    fetch: async () => { calls.newRelic++; return new Response(JSON.stringify({ data: { actor: { account } } }), { status: 200 }); },
    log, sleep: async () => {}, now: () => now,
  });
  if (outcome.published !== calls.datums) throw new Error(`published ${outcome.published} but sent ${calls.datums}`);
  return calls;
}

function median(values) {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** Time to require() the bundle in a fresh process, SDK resolved from the repository's node_modules. */
function loadTimeMs(bundle) {
  const script = `const t=process.hrtime.bigint();require(${JSON.stringify(bundle)});process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))`;
  const runs = Array.from({ length: LOAD_RUNS }, () => Number(execFileSync(process.execPath, ['-e', script], {
    cwd: root, encoding: 'utf-8', env: { ...process.env, AWS_REGION: 'us-east-1', NODE_NO_WARNINGS: '1' },
  })));
  return median(runs);
}

async function main() {
  const bridge = requireBuilt(path.join('newrelic-bridge', 'bridge'));
  console.log('Scaling: calls per New Relic bridge poll (one NerdGraph request: one aliased NRQL query per metric, 2 metrics, FACET over all services)');
  console.log('| services | samples/min | New Relic calls | Secrets Manager calls | PutMetricData calls | datums |');
  console.log('|---:|---:|---:|---:|---:|---:|');
  for (const n of SERVICE_COUNTS) {
    for (const spm of SAMPLES_PER_MINUTE) {
      const c = await countPoll(bridge, n, spm);
      console.log(`| ${n} | ${spm} | ${c.newRelic} | ${c.secretsManager} | ${c.putMetricData} | ${c.datums} |`);
    }
  }
  console.log('');
  console.log(`Scaling: handler bundles (cold-start module load: median of ${LOAD_RUNS} fresh node processes)`);
  console.log('| handler | bundle bytes | gzip bytes | module load ms |');
  console.log('|---|---:|---:|---:|');
  for (const name of HANDLERS) {
    const bundle = path.join(root, 'assets', 'handlers', name, 'index.js');
    if (!fs.existsSync(bundle)) throw new Error(`${bundle} is missing: run \`npm run build\` first.`);
    const bytes = fs.statSync(bundle).size;
    const gzip = zlib.gzipSync(fs.readFileSync(bundle), { level: 9 }).length;
    console.log(`| ${name} | ${bytes} | ${gzip} | ${loadTimeMs(bundle).toFixed(1)} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
