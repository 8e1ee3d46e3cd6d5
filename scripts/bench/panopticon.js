#!/usr/bin/env node
// Panopticon figures: ECS calls and handler time (median of 3) at the talk's scale (35 services,
// 54 tasks, 29 container instances) and at 10x, against a moto_server this script starts and stops;
// and the size of the page (bundle.js + index.html). Runs the compiled handler logic from
// dist/handlers (npm run build); the moto seed (test/panopticon/seed.ts) is bundled with esbuild.
const { execFileSync, spawn } = require('child_process');
const fs = require('fs');
const net = require('net');
const os = require('os');
const https = require('https');
const path = require('path');
const zlib = require('zlib');

const root = path.resolve(__dirname, '..', '..');
const RUNS = 3;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

function requireBuilt() {
  const file = path.join(root, 'dist', 'handlers', 'panopticon-api', 'snapshot.js');
  if (!fs.existsSync(file)) throw new Error(`${file} is missing: run \`npm run build\` first.`);
  return require(file);
}

function loadSeed() {
  // Inside the repository's node_modules, so the bundle resolves the SDK from there.
  const cache = path.join(root, 'node_modules', '.cache');
  fs.mkdirSync(cache, { recursive: true });
  const out = path.join(fs.mkdtempSync(path.join(cache, 'panopticon-bench-')), 'seed.js');
  require('esbuild').buildSync({
    entryPoints: [path.join(root, 'test', 'panopticon', 'seed.ts')],
    outfile: out, bundle: true, platform: 'node', format: 'cjs', target: 'node20', logLevel: 'warning',
    external: ['@aws-sdk/*', '@smithy/*'],
  });
  const seed = require(out);
  return { seed, cleanup: () => fs.rmSync(path.dirname(out), { recursive: true, force: true }) };
}

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
}

async function startMoto() {
  const port = await freePort();
  const endpoint = `http://127.0.0.1:${port}`;
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
  const deadline = Date.now() + 20000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto_server exited early (${child.exitCode})`);
    try { if ((await fetch(`${endpoint}/moto-api/`)).ok) break; } catch { /* not up yet */ }
    if (Date.now() > deadline) { child.kill('SIGKILL'); throw new Error('moto_server did not start within 20 s'); }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    reset: () => fetch(`${endpoint}/moto-api/reset`, { method: 'POST' }),
    stop: () => new Promise((resolve) => { if (child.exitCode !== null) return resolve(); child.once('exit', resolve); child.kill('SIGTERM'); }),
  };
}

async function main() {
  const { takeSnapshot, minimumEcsCalls } = requireBuilt();
  const { ECSClient } = require('@aws-sdk/client-ecs');
  const { seed, cleanup } = loadSeed();
  const moto = await startMoto();
  const config = { endpoint: moto.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
  const rows = [];
  try {
    for (const multiplier of [1, 10]) {
      await moto.reset();
      const seedStart = Date.now();
      const seeded = await seed.seedHierarchy(new ECSClient(config), seed.talkScale(multiplier), moto.endpoint);
      const seedMs = Date.now() - seedStart;
      const minimum = minimumEcsCalls(seeded.clusters.map((c) => ({ services: c.services.length, tasks: c.tasks, containerInstances: c.containerInstances })));
      const times = [];
      let calls;
      for (let i = 0; i < RUNS; i++) {
        const ecs = new ECSClient(config);
        let counted = 0;
        ecs.middlewareStack.add((next) => async (args) => { counted++; return next(args); }, { step: 'initialize', name: 'countCalls' });
        const t0 = process.hrtime.bigint();
        const snapshot = await takeSnapshot(ecs);
        times.push(Number(process.hrtime.bigint() - t0) / 1e6);
        calls = counted;
        const services = snapshot.clusters.reduce((n, c) => n + c.services.length, 0);
        if (services !== seeded.totals.services) throw new Error(`snapshot has ${services} services, seeded ${seeded.totals.services}`);
      }
      rows.push({ multiplier, ...seeded.totals, clusters: seeded.clusters.length, calls, minimum, ms: median(times), seedMs });
    }
  } finally {
    await moto.stop();
    cleanup();
  }

  console.log(`## Panopticon API against moto (handler logic from dist/, median of ${RUNS})`);
  console.log('| scale | clusters | services | tasks | instances | ECS calls | minimum | handler time |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(`| ${r.multiplier}x | ${r.clusters} | ${r.services} | ${r.tasks} | ${r.containerInstances} | ${r.calls} | ${r.minimum} | ${r.ms.toFixed(0)} ms |`);
  }
  // Kubernetes API calls per EKS cluster snapshot: the bundled reader (@kubernetes/client-node)
  // against a local HTTPS list API that pages like the API server (limit/continue);
  // 29/54/35 nodes/pods/deployments per 1x, as the ECS scale.
  // The reader module bundled exactly as the handler is (its exports, which the handler bundle hides).
  const { handlerBuildOptions } = require(path.join(root, 'scripts', 'build-assets.js'));
  const readerBundle = path.join(root, 'node_modules', '.cache', 'bench', 'kubernetes.js');
  await require('esbuild').build({ ...handlerBuildOptions(path.join('handlers', 'panopticon-api', 'kubernetes.ts'), readerBundle), logLevel: 'silent' });
  const { readEksCluster } = require(readerBundle);
  console.log();
  console.log('## Panopticon Kubernetes API calls per EKS cluster snapshot');
  console.log('| scale | nodes | pods | deployments | Kubernetes calls |');
  console.log('|---|---:|---:|---:|---:|');
  const tls = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-k8s-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', path.join(tls, 'key.pem'), '-out', path.join(tls, 'cert.pem')], { stdio: 'ignore' });
  const caPem = fs.readFileSync(path.join(tls, 'cert.pem'), 'utf-8');
  let lists = {};
  const server = https.createServer({ key: fs.readFileSync(path.join(tls, 'key.pem')), cert: caPem }, (req, res) => {
    const url = new URL(req.url, 'https://k8s');
    const all = lists[url.pathname] ?? [];
    const start = Number(url.searchParams.get('continue') ?? 0);
    const limit = Number(url.searchParams.get('limit'));
    const next = start + limit < all.length ? String(start + limit) : undefined;
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ metadata: next ? { continue: next } : {}, items: all.slice(start, start + limit) }));
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const endpoint = async () => ({ url: `https://127.0.0.1:${server.address().port}`, caPem, token: async () => 'k8s-aws-v1.bench' });
  for (const multiplier of [1, 10]) {
    lists = {
      '/api/v1/nodes': Array.from({ length: 29 * multiplier }, (_, i) => ({ metadata: { name: `node-${i}` }, status: { allocatable: { cpu: '2', memory: '8Gi' }, conditions: [{ type: 'Ready', status: 'True' }] } })),
      '/api/v1/pods': Array.from({ length: 54 * multiplier }, (_, i) => ({ metadata: { name: `pod-${i}`, namespace: 'default' }, spec: { nodeName: `node-${i % 29}` }, status: { phase: 'Running' } })),
      '/apis/apps/v1/deployments': Array.from({ length: 35 * multiplier }, (_, i) => ({ metadata: { name: `app-${i}`, namespace: 'default' }, spec: { replicas: 2 }, status: { readyReplicas: 2 } })),
    };
    const view = await readEksCluster('bench', endpoint);
    if (view.error) throw new Error(`Kubernetes bench: ${view.error}`);
    console.log(`| ${multiplier}x | ${view.nodes.length} | ${view.pods.length} | ${view.workloads.length} | ${view.kubernetesCalls} |`);
  }
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  fs.rmSync(tls, { recursive: true, force: true });
  const site = path.join(root, 'assets', 'web', 'panopticon');
  const bytes = (f) => fs.readFileSync(path.join(site, f));
  const js = bytes('bundle.js');
  const html = bytes('index.html');
  console.log();
  console.log('## Panopticon page');
  console.log('| file | bytes | gzip bytes |');
  console.log('|---|---:|---:|');
  for (const [name, buf] of [['bundle.js', js], ['index.html', html], ['total', Buffer.concat([js, html])]]) {
    console.log(`| ${name} | ${buf.length} | ${zlib.gzipSync(buf, { level: 9 }).length} |`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
