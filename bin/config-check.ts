#!/usr/bin/env node
/**
 * config-check: tells CI which steps must run again because their inputs changed.
 *
 *   config-check [check]  [--config FILE] [--root DIR] [--manifest FILE] [--json]
 *   config-check record   [--config FILE] [--root DIR] [--manifest FILE] [--json]
 *
 * `check` (the default) compares the SHA-256 digests of each step's inputs with the manifest of the
 * last recorded run and writes nothing. Run the steps it lists, then `record` to store the new
 * digests (so a failed step runs again next time).
 *
 * The config file (default `config-check.json` in the current directory) is JSON:
 *   { "steps": { "install": ["Dockerfile", "Gemfile", "Gemfile.lock"], "migrate": ["db/migrate"] },
 *     "ignore": ["**\/.DS_Store", "log/**"], "manifest": ".config-check/manifest.json", "root": "." }
 * `root` (default: the config file's directory) and `manifest` are resolved against the config
 * file's directory; `--root` and `--manifest` override them (relative to the current directory).
 *
 * Exit codes:
 *   0  check: nothing to run; record: manifest written
 *   10 check: at least one step must run (listed on stdout, one per line, or in the --json output)
 *   2  usage or config error (unknown option, unreadable or invalid config)
 *   1  any other failure (e.g. an input could not be read)
 */
import * as fs from 'fs';
import * as path from 'path';
import { parseArgs } from 'util';
import { ConfigCheck, ConfigCheckStep } from '../lib/ecs/release/config-check';

export const EXIT_NOTHING_TO_RUN = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;
export const EXIT_STEPS_TO_RUN = 10;

const USAGE = 'usage: config-check [check|record] [--config FILE] [--root DIR] [--manifest FILE] [--json]';
const HELP = `${USAGE}

Tells CI which steps must run again because their inputs changed (SHA-256 of files and directories).

Commands:
  check     compare each step's inputs with the manifest of the last recorded run (default); writes nothing
  record    store the current digests in the manifest (run it after the steps succeeded)

Options:
  --config FILE     the config file (default: config-check.json)
  --root DIR        the directory inputs are relative to (default: the config's "root", or its directory)
  --manifest FILE   the manifest (default: the config's "manifest", or .config-check/manifest.json under the root)
  --json            print the result as JSON on stdout
  -h, --help        print this help and exit 0
  -v, --version     print the version and exit 0

Exit codes: 0 nothing to run (check) or manifest written (record); 10 steps to run (check);
2 usage or config error; 1 any other failure.
Config format: see the README's "config-check" section.
`;

class UsageError extends Error {}

interface CliOptions {
  command: 'check' | 'record';
  config: string;
  root?: string;
  manifest?: string;
  json: boolean;
  help: boolean;
  version: boolean;
}

function parseCliArgs(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string', default: 'config-check.json' },
        root: { type: 'string' },
        manifest: { type: 'string' },
        json: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
        version: { type: 'boolean', short: 'v', default: false },
      },
    });
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`only one command is allowed, got: ${positionals.join(' ')}`);
  const command = positionals[0] ?? 'check';
  if (command !== 'check' && command !== 'record') throw new UsageError(`unknown command: ${command} (use check or record)`);
  return {
    command,
    config: values.config as string,
    root: values.root as string | undefined,
    manifest: values.manifest as string | undefined,
    json: values.json as boolean,
    help: values.help as boolean,
    version: values.version as boolean,
  };
}

/** The package version, from the package.json above the compiled (dist/bin) or source (bin) file. */
function packageVersion(): string {
  for (const candidate of [path.join(__dirname, '..', 'package.json'), path.join(__dirname, '..', '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(fs.readFileSync(candidate, 'utf-8'));
      if (pkg.name === 'cdk-container-patterns') return pkg.version;
    } catch {
      // not this one
    }
  }
  return 'unknown';
}

function loadChecker(opts: CliOptions, cwd: string): ConfigCheck {
  const configFile = path.resolve(cwd, opts.config);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(configFile, 'utf-8'));
  } catch (err) {
    throw new UsageError(`cannot read config ${configFile}: ${(err as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new UsageError(`config ${configFile} must be a JSON object`);
  const cfg = raw as { steps?: unknown; ignore?: unknown; manifest?: unknown; root?: unknown };
  if (typeof cfg.steps !== 'object' || cfg.steps === null || Array.isArray(cfg.steps)) {
    throw new UsageError(`config ${configFile}: "steps" must be an object of step name to input paths, e.g. {"install": ["Dockerfile"]}`);
  }
  const steps: ConfigCheckStep[] = Object.entries(cfg.steps as Record<string, unknown>).map(([name, inputs]) => {
    if (!Array.isArray(inputs) || !inputs.every((i) => typeof i === 'string')) {
      throw new UsageError(`config ${configFile}: steps.${name} must be an array of paths`);
    }
    return { name, inputs };
  });
  if (cfg.ignore !== undefined && (!Array.isArray(cfg.ignore) || !cfg.ignore.every((i) => typeof i === 'string'))) {
    throw new UsageError(`config ${configFile}: "ignore" must be an array of glob patterns`);
  }
  for (const key of ['manifest', 'root'] as const) {
    if (cfg[key] !== undefined && typeof cfg[key] !== 'string') throw new UsageError(`config ${configFile}: "${key}" must be a path`);
  }
  const configDir = path.dirname(configFile);
  const rootDir = opts.root ? path.resolve(cwd, opts.root) : path.resolve(configDir, (cfg.root as string | undefined) ?? '.');
  const manifestPath = opts.manifest
    ? path.resolve(cwd, opts.manifest)
    : path.resolve(configDir, (cfg.manifest as string | undefined) ?? path.join(rootDir, ConfigCheck.DEFAULT_MANIFEST_PATH));
  try {
    return new ConfigCheck({ rootDir, steps, ignore: cfg.ignore as string[] | undefined, manifestPath });
  } catch (err) {
    throw new UsageError(`config ${configFile}: ${(err as Error).message}`);
  }
}

/** Runs the CLI and returns its exit code; output goes through the given writers (tests capture them). */
export function main(argv: string[], out: (s: string) => void = (s) => process.stdout.write(s), err: (s: string) => void = (s) => process.stderr.write(s), cwd = process.cwd()): number {
  let opts: CliOptions;
  let checker: ConfigCheck;
  try {
    opts = parseCliArgs(argv);
    if (opts.help) {
      out(HELP);
      return EXIT_NOTHING_TO_RUN;
    }
    if (opts.version) {
      out(`${packageVersion()}\n`);
      return EXIT_NOTHING_TO_RUN;
    }
    checker = loadChecker(opts, cwd);
  } catch (e) {
    if (e instanceof UsageError) {
      err(`config-check: ${e.message}\n${USAGE}\n`);
      return EXIT_USAGE;
    }
    throw e;
  }
  try {
    if (opts.command === 'record') {
      const manifest = checker.record();
      out(opts.json
        ? `${JSON.stringify({ recorded: checker.manifestFile, steps: manifest.steps }, null, 2)}\n`
        : `config-check: recorded ${Object.keys(manifest.steps).length} step digest(s) in ${checker.manifestFile}\n`);
      return EXIT_NOTHING_TO_RUN;
    }
    const result = checker.check();
    if (opts.json) {
      out(`${JSON.stringify({
        stepsToRun: result.stepsToRun,
        previousManifestFound: result.previousManifestFound,
        manifest: checker.manifestFile,
        steps: result.steps,
      }, null, 2)}\n`);
    } else {
      for (const step of result.steps.filter((s) => s.mustRun)) out(`${step.name}\n`);
      const why = result.previousManifestFound ? '' : ' (no manifest of an earlier run: every step runs)';
      err(`config-check: ${result.stepsToRun.length} of ${result.steps.length} step(s) to run${why}\n`);
    }
    return result.stepsToRun.length > 0 ? EXIT_STEPS_TO_RUN : EXIT_NOTHING_TO_RUN;
  } catch (e) {
    err(`config-check: ${(e as Error).message}\n`);
    return EXIT_FAILURE;
  }
}

if (require.main === module) {
  process.exitCode = main(process.argv.slice(2));
}
