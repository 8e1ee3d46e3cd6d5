import * as crypto from 'crypto';
import * as fs from 'fs';
import * as path from 'path';

/** Version of the manifest layout; a manifest with another version is treated as absent (every step runs). */
const MANIFEST_VERSION = 1;

/** One step of a build or test flow and the inputs that decide whether it must run again. */
export interface ConfigCheckStep {
  /** Step name reported to the caller, e.g. `install` or `migrate`. */
  readonly name: string;
  /**
   * Files or directories, relative to the root directory, with `/` separators
   * (e.g. `Dockerfile`, `Gemfile.lock`, `db/migrate`).
   */
  readonly inputs: string[];
}

/** Properties of a {@link ConfigCheck}. */
export interface ConfigCheckProps {
  /** Directory the inputs are relative to (usually the application repository). */
  readonly rootDir: string;
  /** The steps and their inputs. */
  readonly steps: ConfigCheckStep[];
  /**
   * Glob patterns of paths to leave out of every digest. `*` matches within one path segment,
   * `**` across segments, `?` one character; a pattern without `/` matches a file or directory
   * name at any depth (like `.gitignore`). An ignored directory is skipped with everything under it.
   *
   * @default - nothing is ignored
   */
  readonly ignore?: string[];
  /**
   * Where the manifest of the last recorded run is kept, relative to `rootDir` unless absolute.
   * The manifest file (and its temporary file while it is written) is always ignored.
   *
   * @default '.config-check/manifest.json'
   */
  readonly manifestPath?: string;
}

/** Digests recorded after a successful run of the steps. */
export interface ConfigCheckManifest {
  /** Layout version of this manifest. */
  readonly version: number;
  /** SHA-256 (hex) of each input, keyed by its path relative to the root directory. */
  readonly inputs: { [input: string]: string };
  /** SHA-256 (hex) of each step: a digest over the names and digests of its inputs. */
  readonly steps: { [step: string]: string };
}

/** What the comparison found for one step. */
export interface ConfigCheckStepResult {
  /** The step name. */
  readonly name: string;
  /** Whether the step must run again: an input changed, or the manifest has no digest for the step. */
  readonly mustRun: boolean;
  /** The inputs whose digests differ from the manifest (all of them when there is no manifest). */
  readonly changedInputs: string[];
  /** The step's current digest. */
  readonly digest: string;
}

/** Result of {@link ConfigCheck.check}. */
export interface ConfigCheckResult {
  /** One entry per step, in the order the steps were given. */
  readonly steps: ConfigCheckStepResult[];
  /** Names of the steps that must run again, in the order the steps were given. */
  readonly stepsToRun: string[];
  /** The current digests: record them with {@link ConfigCheck.record} once the steps have succeeded. */
  readonly manifest: ConfigCheckManifest;
  /** Whether a readable manifest of an earlier run was found. */
  readonly previousManifestFound: boolean;
}

/**
 * Decides which steps of a CI flow must run again from SHA-256 digests of the files and
 * directories that determine them (the "config check" of the FiNC deploy flow: `install` runs again
 * when `Dockerfile`, `Gemfile` or `Gemfile.lock` changed, `migrate` when `db/migrate` changed).
 *
 * Digest of an input: SHA-256 over one record per entry at or under the input, sorted by the
 * entry's path relative to the root (byte order of its UTF-8 form), so the digest does not depend on
 * directory listing order, and renaming a file changes it:
 * - regular file: `file NUL <path> NUL <sha256 of its bytes> LF` — every file is read as bytes,
 *   text and binary alike (no line-ending normalisation);
 * - directory: `dir NUL <path> LF` — so an empty directory counts;
 * - symbolic link: `link NUL <path> NUL <link target as written> LF` — the link is not followed:
 *   re-pointing it changes the digest, changing the file it points to does not;
 * - anything else (socket, FIFO, device): `other NUL <path> LF`;
 * - an input that does not exist: `missing NUL <path> LF` — so deleting an input is a change.
 * Ignored paths produce no record.
 */
export class ConfigCheck {
  /** The default manifest location, relative to the root directory. */
  public static readonly DEFAULT_MANIFEST_PATH = '.config-check/manifest.json';

  /**
   * Reads a manifest file; returns undefined when it is missing, unreadable, or of another version
   * (every step then runs — the safe answer).
   */
  public static readManifest(file: string): ConfigCheckManifest | undefined {
    let parsed: unknown;
    try {
      parsed = JSON.parse(fs.readFileSync(file, 'utf-8'));
    } catch {
      return undefined;
    }
    if (typeof parsed !== 'object' || parsed === null) return undefined;
    const m = parsed as Partial<ConfigCheckManifest>;
    if (m.version !== MANIFEST_VERSION || typeof m.inputs !== 'object' || typeof m.steps !== 'object' || m.inputs === null || m.steps === null) {
      return undefined;
    }
    return { version: m.version, inputs: { ...m.inputs }, steps: { ...m.steps } };
  }

  /** Absolute path of the manifest file. */
  public readonly manifestFile: string;
  private readonly rootDir: string;
  private readonly steps: ConfigCheckStep[];
  private readonly ignore: IgnorePattern[];
  private readonly manifestRel: string | undefined;

  constructor(props: ConfigCheckProps) {
    if (!props.steps || props.steps.length === 0) {
      throw new Error('ConfigCheck: steps ([]) must name at least one step. Add e.g. { name: "install", inputs: ["Dockerfile"] }.');
    }
    const names = new Set<string>();
    for (const step of props.steps) {
      if (!step.name || !/^[A-Za-z0-9_.:-]+$/.test(step.name)) {
        throw new Error(`ConfigCheck: step name (${JSON.stringify(step.name)}) must be non-empty letters, digits, '_', '.', ':' or '-'. Rename the step.`);
      }
      if (names.has(step.name)) {
        throw new Error(`ConfigCheck: step name (${JSON.stringify(step.name)}) is given twice. Merge the two steps' inputs.`);
      }
      names.add(step.name);
      if (!step.inputs || step.inputs.length === 0) {
        throw new Error(`ConfigCheck: inputs of step ${JSON.stringify(step.name)} ([]) must list at least one file or directory. Add its inputs.`);
      }
      for (const input of step.inputs) normalizeInput(input);
    }
    this.rootDir = path.resolve(props.rootDir);
    this.steps = props.steps.map((s) => ({ name: s.name, inputs: s.inputs.map(normalizeInput) }));
    this.ignore = (props.ignore ?? []).map((glob) => ({ re: globToRegExp(glob), nameOnly: !toPosix(glob).replace(/\/+$/, '').includes('/') }));
    this.manifestFile = path.resolve(this.rootDir, props.manifestPath ?? ConfigCheck.DEFAULT_MANIFEST_PATH);
    const rel = path.relative(this.rootDir, this.manifestFile);
    this.manifestRel = rel.startsWith('..') || path.isAbsolute(rel) ? undefined : toPosix(rel);
  }

  /** SHA-256 (hex) of one input, a file or directory relative to the root directory. */
  public digestInput(input: string): string {
    const records: Buffer[] = [];
    this.collect(normalizeInput(input), records);
    records.sort(Buffer.compare);
    const hash = crypto.createHash('sha256');
    for (const r of records) hash.update(r);
    return hash.digest('hex');
  }

  /** The current digests of every input and step. */
  public computeManifest(): ConfigCheckManifest {
    const inputs: { [input: string]: string } = {};
    for (const input of [...new Set(this.steps.flatMap((s) => s.inputs))].sort()) {
      inputs[input] = this.digestInput(input);
    }
    const steps: { [step: string]: string } = {};
    for (const step of this.steps) steps[step.name] = stepDigest(step, inputs);
    return { version: MANIFEST_VERSION, inputs, steps };
  }

  /** Compares the current digests with a manifest (none: every step must run). */
  public compare(previous?: ConfigCheckManifest): ConfigCheckResult {
    const manifest = this.computeManifest();
    const steps = this.steps.map((step): ConfigCheckStepResult => {
      const digest = manifest.steps[step.name];
      const changedInputs = step.inputs.filter((i) => previous?.inputs[i] !== manifest.inputs[i]);
      const mustRun = previous?.steps[step.name] !== digest;
      return { name: step.name, mustRun, changedInputs, digest };
    });
    return {
      steps,
      stepsToRun: steps.filter((s) => s.mustRun).map((s) => s.name),
      manifest,
      previousManifestFound: previous !== undefined,
    };
  }

  /** Compares the current digests with the manifest file. Reads only; nothing is written. */
  public check(): ConfigCheckResult {
    return this.compare(ConfigCheck.readManifest(this.manifestFile));
  }

  /**
   * Writes the current digests to the manifest file; call it after the steps succeeded, so a failed
   * step runs again next time. Returns the manifest written.
   */
  public record(): ConfigCheckManifest {
    const manifest = this.computeManifest();
    fs.mkdirSync(path.dirname(this.manifestFile), { recursive: true });
    const tmp = `${this.manifestFile}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
    // Rename is atomic: a CI job killed mid-write never leaves a half manifest behind.
    fs.renameSync(tmp, this.manifestFile);
    return manifest;
  }

  private isIgnored(rel: string): boolean {
    if (this.manifestRel !== undefined && (rel === this.manifestRel || rel.startsWith(`${this.manifestRel}.`) && rel.endsWith('.tmp'))) return true;
    const base = rel.slice(rel.lastIndexOf('/') + 1);
    return this.ignore.some((p) => p.re.test(p.nameOnly ? base : rel));
  }

  private collect(rel: string, records: Buffer[], known?: fs.Dirent): void {
    if (this.isIgnored(rel)) return;
    const abs = path.join(this.rootDir, ...rel.split('/'));
    // Directory entries carry their type, which saves one lstat per file on large trees.
    let entry: fs.Dirent | fs.Stats;
    if (known && (known.isFile() || known.isDirectory() || known.isSymbolicLink())) {
      entry = known;
    } else {
      try {
        entry = fs.lstatSync(abs);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
          records.push(record('missing', rel));
          return;
        }
        throw err;
      }
    }
    if (entry.isSymbolicLink()) {
      records.push(record('link', rel, fs.readlinkSync(abs)));
    } else if (entry.isFile()) {
      records.push(record('file', rel, sha256File(abs)));
    } else if (entry.isDirectory()) {
      records.push(record('dir', rel));
      for (const child of fs.readdirSync(abs, { withFileTypes: true })) this.collect(`${rel}/${child.name}`, records, child);
    } else {
      records.push(record('other', rel));
    }
  }
}

interface IgnorePattern {
  readonly re: RegExp;
  /** A pattern without `/` matches a name at any depth. */
  readonly nameOnly: boolean;
}

function record(kind: string, rel: string, value?: string): Buffer {
  return Buffer.from(value === undefined ? `${kind}\0${rel}\n` : `${kind}\0${rel}\0${value}\n`, 'utf-8');
}

function stepDigest(step: ConfigCheckStep, inputs: { [input: string]: string }): string {
  const hash = crypto.createHash('sha256');
  for (const input of [...step.inputs].sort()) hash.update(`${input}\0${inputs[input]}\n`);
  return hash.digest('hex');
}

const CHUNK = Buffer.alloc(1024 * 1024);

function sha256File(file: string): string {
  const hash = crypto.createHash('sha256');
  const fd = fs.openSync(file, 'r');
  try {
    for (;;) {
      const n = fs.readSync(fd, CHUNK, 0, CHUNK.length, null);
      hash.update(CHUNK.subarray(0, n));
      // A short read of a regular file is its end: small files take one read, not two.
      if (n < CHUNK.length) break;
    }
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** Normalises an input path to `a/b` form and refuses paths that leave the root directory. */
function normalizeInput(input: string): string {
  const norm = path.posix.normalize(toPosix(input ?? '')).replace(/\/+$/, '');
  if (!input || norm === '.' || norm === '' || norm.startsWith('../') || norm === '..' || path.posix.isAbsolute(norm)) {
    throw new Error(`ConfigCheck: input (${JSON.stringify(input)}) must be a file or directory inside the root directory, relative to it. Use a path such as "db/migrate".`);
  }
  return norm;
}

/** Turns a glob into an anchored regular expression over `/`-separated relative paths. */
function globToRegExp(glob: string): RegExp {
  if (!glob || glob.trim() === '') {
    throw new Error(`ConfigCheck: ignore pattern (${JSON.stringify(glob)}) must not be empty. Remove it or write e.g. "log/**".`);
  }
  const g = toPosix(glob).replace(/^\.\//, '').replace(/\/+$/, '');
  let re = '';
  for (let i = 0; i < g.length; i++) {
    const c = g[i];
    if (c === '/' && g.slice(i) === '/**') {
      // `dir/**` ignores the directory itself too, so an ignored subtree appearing is no change.
      re += '(?:/.*)?';
      break;
    }
    if (c === '*' && g[i + 1] === '*') {
      if (g[i + 2] === '/') {
        re += '(?:.*/)?';
        i += 2;
      } else {
        re += '.*';
        i += 1;
      }
    } else if (c === '*') {
      re += '[^/]*';
    } else if (c === '?') {
      re += '[^/]';
    } else {
      re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${re}$`);
}
