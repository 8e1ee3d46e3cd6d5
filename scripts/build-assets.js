#!/usr/bin/env node
// Bundles Lambda handlers (handlers/<name>/index.ts) and web front ends (web/<name>/main.ts +
// index.html) into assets/, which constructs load with Code.fromAsset / Source.asset, and the
// config-check CLI (bin/config-check.ts) into assets/cli/.
// The output is byte-identical across runs: no timestamps, no absolute paths, sorted inputs.
const fs = require('fs');
const path = require('path');
const esbuild = require('esbuild');

const root = path.resolve(__dirname, '..');
const out = path.join(root, 'assets');

function subdirs(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory()).map((d) => d.name).sort();
}

const common = { bundle: true, minify: true, legalComments: 'none', logLevel: 'warning', absWorkingDir: root, charset: 'utf8' };

async function buildHandlers() {
  const names = subdirs(path.join(root, 'handlers')).filter((n) => fs.existsSync(path.join(root, 'handlers', n, 'index.ts')));
  for (const name of names) {
    const outdir = path.join(out, 'handlers', name);
    fs.rmSync(outdir, { recursive: true, force: true });
    await esbuild.build({
      ...common,
      entryPoints: [path.join('handlers', name, 'index.ts')],
      outfile: path.join(outdir, 'index.js'),
      platform: 'node',
      target: 'node20',
      format: 'cjs',
      // The Lambda Node.js runtime ships AWS SDK v3; bundling it would only add megabytes.
      external: ['@aws-sdk/*', '@smithy/*'],
    });
  }
  return names;
}

async function buildWeb() {
  const names = subdirs(path.join(root, 'web')).filter((n) => fs.existsSync(path.join(root, 'web', n, 'main.ts')));
  for (const name of names) {
    const outdir = path.join(out, 'web', name);
    fs.rmSync(outdir, { recursive: true, force: true });
    await esbuild.build({
      ...common,
      entryPoints: [path.join('web', name, 'main.ts')],
      outfile: path.join(outdir, 'bundle.js'),
      platform: 'browser',
      target: ['es2020'],
      format: 'iife',
    });
    fs.copyFileSync(path.join(root, 'web', name, 'index.html'), path.join(outdir, 'index.html'));
  }
  return names;
}

/** The config-check CLI as one small file: its start-up is module loading, so one file loads fastest. */
async function buildCli() {
  const outfile = path.join(out, 'cli', 'config-check.js');
  fs.rmSync(path.dirname(outfile), { recursive: true, force: true });
  await esbuild.build({ ...common, entryPoints: [path.join('bin', 'config-check.ts')], outfile, platform: 'node', target: 'node20', format: 'cjs' });
  fs.chmodSync(outfile, 0o755);
}

Promise.all([buildHandlers(), buildWeb(), buildCli()]).then(([handlers, web]) => {
  if (!process.argv.includes('--quiet')) console.log(`bundled ${handlers.length} handler(s), ${web.length} web app(s) and the config-check CLI into assets/`);
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
