import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

const PACKAGE_NAME = 'cdk-container-patterns';

/**
 * Finds this package's root by walking up from the compiled file, so the same code works from
 * `lib/` (ts-jest), `dist/lib/` (the example app) and an installed `node_modules` copy.
 */
function packageRoot(): string {
  let dir = __dirname;
  for (;;) {
    const manifest = path.join(dir, 'package.json');
    if (fs.existsSync(manifest) && JSON.parse(fs.readFileSync(manifest, 'utf-8')).name === PACKAGE_NAME) return dir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`Cannot find the ${PACKAGE_NAME} package root above ${__dirname}.`);
    dir = parent;
  }
}

/** Path of a folder of pre-built assets (`assets/<kind>/<name>`), failing clearly when the build was skipped. */
export function builtAssetPath(kind: 'handlers' | 'web', name: string): string {
  const dir = path.join(packageRoot(), 'assets', kind, name);
  if (!fs.existsSync(dir)) {
    throw new Error(`Pre-built ${kind} bundle "${name}" is missing at ${dir}. Run \`npm run build\` (it bundles handlers/ and web/ with esbuild).`);
  }
  return dir;
}

/** Lambda code for a handler bundled from `handlers/<name>/index.ts` into `assets/handlers/<name>/index.js`. */
export function handlerCode(name: string): lambda.Code {
  return lambda.Code.fromAsset(builtAssetPath('handlers', name));
}
