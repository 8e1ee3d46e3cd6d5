// Tests synthesize constructs that load pre-built handler and web bundles: build them once first.
const { execFileSync } = require('child_process');
const path = require('path');
const esbuild = require('esbuild');

/** ESM-only runtime dependencies of the handlers, converted to CommonJS for jest (see jest.config.js's moduleNameMapper). */
const ESM_ONLY = { '@kubernetes/client-node': 'kubernetes-client-node.cjs' };
const esmCache = path.join(__dirname, '..', '..', 'node_modules', '.cache', 'jest-esm');

module.exports = async () => {
  execFileSync(process.execPath, [path.join(__dirname, '..', '..', 'scripts', 'build-assets.js'), '--quiet'], { stdio: 'inherit' });
  // jest's module loader cannot require ES modules; the Lambda bundle converts them with esbuild,
  // and so do the tests: the same package code, in the format jest loads.
  for (const [pkg, file] of Object.entries(ESM_ONLY)) {
    await esbuild.build({
      stdin: { contents: `module.exports = require(${JSON.stringify(pkg)});`, resolveDir: path.join(__dirname, '..', '..'), loader: 'js' },
      bundle: true, platform: 'node', target: 'node20', format: 'cjs', logLevel: 'warning', outfile: path.join(esmCache, file),
    });
  }
};
