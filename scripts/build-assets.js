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

/**
 * Lets esbuild drop the unused modules of packages that do not declare `"sideEffects": false`
 * although their modules only declare things: @kubernetes/client-node's index re-exports watch,
 * exec, attach, cp and port-forward (with ws, tar-fs...), which the handlers never call.
 */
function sideEffectFree(packages) {
  const inPackage = (file) => packages.some((p) => file.includes(`/node_modules/${p}/`));
  return {
    name: 'side-effect-free',
    setup(build) {
      build.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === 'side-effect-free' || (!inPackage(args.importer) && !packages.includes(args.path))) return undefined;
        const resolved = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: 'side-effect-free' });
        if (resolved.errors.length > 0) return { errors: resolved.errors };
        return { path: resolved.path, external: resolved.external, sideEffects: inPackage(resolved.path) ? false : undefined };
      });
    },
  };
}

/**
 * node-fetch 2 (the client's HTTP stack) imports the whatwg-url polyfill (0.3 MB with its Unicode
 * tables) but uses it only where Node has no `url.URL`; every Node the handlers run on has one.
 */
const nodeUrlForWhatwgUrl = {
  name: 'node-url-for-whatwg-url',
  setup(build) {
    build.onResolve({ filter: /^whatwg-url$/ }, () => ({ path: 'whatwg-url', namespace: 'node-url' }));
    build.onLoad({ filter: /.*/, namespace: 'node-url' }, () => ({ contents: 'module.exports = { URL: require("url").URL };', loader: 'js' }));
  },
};

/** esbuild options of a Lambda handler bundle (also used by tests that run the bundled code). */
function handlerBuildOptions(entryPoint, outfile) {
  return {
    ...common,
    entryPoints: [entryPoint],
    outfile,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    // The Lambda Node.js runtime ships AWS SDK v3; bundling it would only add megabytes.
    external: ['@aws-sdk/*', '@smithy/*'],
    plugins: [sideEffectFree(['@kubernetes/client-node']), nodeUrlForWhatwgUrl],
  };
}

async function buildHandlers() {
  const names = subdirs(path.join(root, 'handlers')).filter((n) => fs.existsSync(path.join(root, 'handlers', n, 'index.ts')));
  for (const name of names) {
    const outdir = path.join(out, 'handlers', name);
    fs.rmSync(outdir, { recursive: true, force: true });
    await esbuild.build(handlerBuildOptions(path.join('handlers', name, 'index.ts'), path.join(outdir, 'index.js')));
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

module.exports = { handlerBuildOptions };

if (require.main === module) {
  Promise.all([buildHandlers(), buildWeb(), buildCli()]).then(([handlers, web]) => {
    if (!process.argv.includes('--quiet')) console.log(`bundled ${handlers.length} handler(s), ${web.length} web app(s) and the config-check CLI into assets/`);
  }).catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
