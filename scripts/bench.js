#!/usr/bin/env node
// npm run bench: figures for the example app, then every area's scripts/bench/*.js.
// Expects `npm run build` to have run (the npm script does it first).
const { execFileSync } = require('child_process');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..');
// The feature flags the CLI would pass from cdk.json.
const { context } = JSON.parse(fs.readFileSync(path.join(root, 'cdk.json'), 'utf-8'));
const RUNS = 5;
const RESOURCE_LIMIT = 500;
const TEMPLATE_BYTES_LIMIT = 1024 * 1024; // templates uploaded through S3, as cdk deploy does

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;

function synthOnce(outdir) {
  // The child measures itself: wall time of build+synth and its own peak RSS.
  const script = `
    const t0 = process.hrtime.bigint();
    const { App } = require('aws-cdk-lib');
    const { buildApp } = require(${JSON.stringify(path.join(root, 'dist', 'bin', 'app.js'))});
    buildApp(new App({ outdir: ${JSON.stringify(outdir)}, context: ${JSON.stringify(context)} })).synth();
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(JSON.stringify({ ms, maxRssKiB: process.resourceUsage().maxRSS }));`;
  const out = execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf-8' });
  return JSON.parse(out.trim().split('\n').pop());
}

function synthFigures() {
  const runs = [];
  let outdir;
  for (let i = 0; i < RUNS; i++) {
    outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-synth-'));
    runs.push(synthOnce(outdir));
    if (i < RUNS - 1) fs.rmSync(outdir, { recursive: true, force: true });
  }
  console.log(`## Synth of the example app (compiled, ${RUNS} runs)`);
  console.log(`wall time median ${median(runs.map((r) => r.ms)).toFixed(0)} ms (min ${Math.min(...runs.map((r) => r.ms)).toFixed(0)}, max ${Math.max(...runs.map((r) => r.ms)).toFixed(0)})`);
  console.log(`peak memory median ${(median(runs.map((r) => r.maxRssKiB)) / 1024).toFixed(0)} MiB`);
  console.log();
  console.log('## Templates');
  console.log('| template | resources | limit | bytes | limit |');
  console.log('|---|---:|---:|---:|---:|');
  for (const f of fs.readdirSync(outdir).filter((n) => n.endsWith('.template.json')).sort()) {
    const text = fs.readFileSync(path.join(outdir, f), 'utf-8');
    const resources = Object.keys(JSON.parse(text).Resources ?? {}).length;
    console.log(`| ${f.replace('.template.json', '')} | ${resources} | ${RESOURCE_LIMIT} | ${Buffer.byteLength(text)} | ${TEMPLATE_BYTES_LIMIT} |`);
  }
  fs.rmSync(outdir, { recursive: true, force: true });
}

function exampleFigures() {
  // Each example alone in a fresh process: construct + synth, the way a user's app would pay for it.
  const { EXAMPLES } = require(path.join(root, 'dist', 'examples', 'index.js'));
  console.log();
  console.log('## Per example (synthesized alone, median of 3)');
  console.log('| example | synth ms | templates | resources | largest template bytes |');
  console.log('|---|---:|---:|---:|---:|');
  for (const name of Object.keys(EXAMPLES)) {
    const times = [];
    let outdir;
    for (let i = 0; i < 3; i++) {
      if (outdir) fs.rmSync(outdir, { recursive: true, force: true });
      outdir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-example-'));
      const script = `
        const t0 = process.hrtime.bigint();
        const { App } = require('aws-cdk-lib');
        const { EXAMPLES } = require(${JSON.stringify(path.join(root, 'dist', 'examples', 'index.js'))});
        const app = new App({ outdir: ${JSON.stringify(outdir)}, context: ${JSON.stringify(context)} });
        EXAMPLES[${JSON.stringify(name)}](app);
        app.synth();
        console.log(Number(process.hrtime.bigint() - t0) / 1e6);`;
      times.push(Number(execFileSync(process.execPath, ['-e', script], { cwd: root, encoding: 'utf-8' }).trim().split('\n').pop()));
    }
    const templates = fs.readdirSync(outdir).filter((n) => n.endsWith('.template.json'));
    const texts = templates.map((f) => fs.readFileSync(path.join(outdir, f), 'utf-8'));
    const resources = texts.reduce((n, t) => n + Object.keys(JSON.parse(t).Resources ?? {}).length, 0);
    const largest = Math.max(...texts.map((t) => Buffer.byteLength(t)));
    console.log(`| ${name} | ${median(times).toFixed(0)} | ${templates.length} | ${resources} | ${largest} |`);
    fs.rmSync(outdir, { recursive: true, force: true });
  }
}

function bundleFigures() {
  const dir = path.join(root, 'assets', 'handlers');
  console.log();
  console.log('## Lambda bundles (minified, AWS SDK external)');
  console.log('| handler | bytes |');
  console.log('|---|---:|');
  for (const name of fs.existsSync(dir) ? fs.readdirSync(dir).sort() : []) {
    const file = path.join(dir, name, 'index.js');
    if (fs.existsSync(file)) console.log(`| ${name} | ${fs.statSync(file).size} (${kib(fs.statSync(file).size)}) |`);
  }
}

synthFigures();
exampleFigures();
bundleFigures();
const benchDir = path.join(__dirname, 'bench');
for (const f of fs.existsSync(benchDir) ? fs.readdirSync(benchDir).filter((n) => n.endsWith('.js')).sort() : []) {
  console.log();
  execFileSync(process.execPath, [path.join(benchDir, f)], { cwd: root, stdio: 'inherit' });
}
