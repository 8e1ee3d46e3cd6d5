#!/usr/bin/env node
// config-check on a generated 10,000-file tree, beside `find . -type f | sort | xargs sha256sum`
// measured in the same run on the same tree. Expects `npm run build` (assets/cli/config-check.js, the bundled CLI that package.json's bin names);
// CONFIG_CHECK_DIST points at another compiled tree (a folder holding bin/ and lib/).
const { Buffer } = require('buffer');
const { execFileSync } = require('child_process');
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const root = path.resolve(__dirname, '..', '..');
const dist = process.env.CONFIG_CHECK_DIST ? path.resolve(process.env.CONFIG_CHECK_DIST) : path.join(root, 'dist');
const cli = process.env.CONFIG_CHECK_DIST ? path.join(dist, 'bin', 'config-check.js') : path.join(root, 'assets', 'cli', 'config-check.js');
const FILES = 10000;
const RUNS = 3;

if (!fs.existsSync(cli)) {
  console.error(`config-check bench: ${cli} is missing; run \`npm run build\` first.`);
  process.exit(1);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** 10,000 files: the config, 3 install inputs and the rest under db/migrate in 100 folders, 0.5-4 KiB of fixed pseudo-random bytes each. */
function generateTree(dir) {
  let bytes = 0;
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM ruby:3.3\n');
  fs.writeFileSync(path.join(dir, 'Gemfile'), "source 'https://rubygems.org'\ngem 'rails'\n");
  fs.writeFileSync(path.join(dir, 'Gemfile.lock'), 'GEM\n  specs:\n    rails (7.2.0)\n');
  let seed = crypto.createHash('sha256').update('config-check bench').digest();
  for (let i = 0; i < FILES - 4; i++) {
    const folder = path.join(dir, 'db', 'migrate', `batch_${String(i % 100).padStart(3, '0')}`);
    if (i < 100) fs.mkdirSync(folder, { recursive: true });
    seed = crypto.createHash('sha256').update(seed).digest();
    const size = 512 + (seed.readUInt16BE(0) % 3584);
    const content = Buffer.alloc(size);
    for (let off = 0; off < size; off += seed.length) seed.copy(content, off);
    fs.writeFileSync(path.join(folder, `${String(i).padStart(5, '0')}_migration.rb`), content);
    bytes += size;
  }
  fs.writeFileSync(path.join(dir, 'config-check.json'), JSON.stringify({
    steps: { install: ['Dockerfile', 'Gemfile', 'Gemfile.lock'], migrate: ['db/migrate'] },
  }));
  return bytes;
}

function time(fn) {
  const t0 = process.hrtime.bigint();
  fn();
  return Number(process.hrtime.bigint() - t0) / 1e6;
}

function runCli(dir, file = cli) {
  // check exits 10 when steps must run; that is a result here, not an error.
  try {
    execFileSync(process.execPath, [file, 'check', '--json'], { cwd: dir, stdio: ['ignore', 'ignore', 'ignore'] });
  } catch (err) {
    if (err.status !== 10) throw err;
  }
}

function runShell(dir) {
  execFileSync('sh', ['-c', 'find . -type f | LC_ALL=C sort | xargs sha256sum > /dev/null'], { cwd: dir, stdio: 'ignore' });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-config-check-'));
try {
  const bytes = generateTree(dir);
  const fileCount = Number(execFileSync('sh', ['-c', 'find . -type f | wc -l'], { cwd: dir, encoding: 'utf-8' }).trim());
  // One warm-up of each so both read from the page cache.
  runCli(dir);
  runShell(dir);
  const unbundled = path.join(dist, 'bin', 'config-check.js');
  const cliMs = [];
  const unbundledMs = [];
  const shellMs = [];
  for (let i = 0; i < RUNS; i++) {
    cliMs.push(time(() => runCli(dir)));
    if (fs.existsSync(unbundled)) unbundledMs.push(time(() => runCli(dir, unbundled)));
    shellMs.push(time(() => runShell(dir)));
  }
  // In-process: the library digest alone, without Node start-up.
  const { ConfigCheck } = require(path.join(dist, 'lib', 'ecs', 'release', 'config-check.js'));
  const checker = new ConfigCheck({ rootDir: dir, steps: [{ name: 'install', inputs: ['Dockerfile', 'Gemfile', 'Gemfile.lock'] }, { name: 'migrate', inputs: ['db/migrate'] }] });
  checker.computeManifest();
  const libMs = [];
  for (let i = 0; i < RUNS; i++) libMs.push(time(() => checker.computeManifest()));

  console.log(`## config-check on a generated tree (${fileCount} files, ${(bytes / 1024 / 1024).toFixed(1)} MiB of migrations, warm cache, median of ${RUNS})`);
  console.log('| command | wall time |');
  console.log('|---|---:|');
  console.log(`| config-check check --json (bundled CLI) | ${median(cliMs).toFixed(0)} ms |`);
  if (unbundledMs.length > 0) console.log(`| node dist/bin/config-check.js check --json (tsc output, not bundled) | ${median(unbundledMs).toFixed(0)} ms |`);
  console.log(`| CLI / shell pipeline | ${(median(cliMs) / median(shellMs)).toFixed(2)} |`);
  console.log(`| ConfigCheck.computeManifest() in process | ${median(libMs).toFixed(0)} ms |`);
  console.log(`| find . -type f \\| sort \\| xargs sha256sum | ${median(shellMs).toFixed(0)} ms |`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
