#!/usr/bin/env node
// The consumer gate: the packed tarball, installed with its peers into a separate app, loads, and
// every README code block compiles against it as written, synthesizes with the policy checks on,
// and passes cfn-lint. See test/consumer/README.md.
//
//   node scripts/check-consumer.js [--prebuilt] [--keep]
//     --prebuilt  dist/, assets/ and .jsii are already built (npm test built them in earlier gates)
//     --keep      leave test-artifacts/consumer in place (it is always rebuilt at the next run)
//     --readme F  the markdown file whose ts blocks are compiled (default README.md)
const cp = require('child_process');
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');

const root = path.join(__dirname, '..');
const work = path.join(root, 'test-artifacts', 'consumer');
const app = path.join(work, 'app');
const { values: opts } = parseArgs({ options: { prebuilt: { type: 'boolean' }, keep: { type: 'boolean' }, readme: { type: 'string', default: 'README.md' }, 'reuse-install': { type: 'boolean' } } });

const problems = [];
const started = Date.now();
function run(cmd, args, cwd, extraEnv = {}) {
  const r = cp.spawnSync(cmd, args, { cwd, encoding: 'utf-8', env: { ...process.env, ...extraEnv }, maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0) {
    const out = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n').slice(-40).join('\n');
    throw new Error(`${cmd} ${args.join(' ')} (in ${path.relative(root, cwd) || '.'}) exited ${r.status}:\n${out}`);
  }
  return r.stdout;
}
function fail(message) {
  console.error(`consumer gate: FAILED\n${message}`);
  process.exit(1);
}

// --reuse-install (a quick loop while editing the README): keep the installed app, redo steps 4-5 only.
const reuse = opts['reuse-install'] && fs.existsSync(path.join(app, 'node_modules', 'cdk-container-patterns'));
let packed = { filename: '(reused install)', size: 0, entryCount: 0 };
let exported = new Set();
let runtimeTypes = [];
if (reuse) {
  for (const d of ['src', 'build', 'cdk.out']) fs.rmSync(path.join(app, d), { recursive: true, force: true });
  fs.cpSync(path.join(root, 'test', 'consumer', 'src'), path.join(app, 'src'), { recursive: true });
} else {
  prepare();
}

function prepare() {
// 1. Pack, and check the tarball against what dist/ loads.
if (!opts.prebuilt) {
  run('npm', ['run', '--silent', 'build'], root);
  run('npm', ['run', '--silent', 'jsii'], root);
}
fs.rmSync(work, { recursive: true, force: true });
fs.mkdirSync(work, { recursive: true });
packed = JSON.parse(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], root))[0];
const tarball = path.join(work, packed.filename);
const packedFiles = new Set(packed.files.map((f) => f.path));
for (const required of ['.jsii', 'API.md', 'README.md', 'package.json', packageJson().main, packageJson().types]) {
  if (!packedFiles.has(required)) problems.push(`the tarball lacks ${required}`);
}
for (const asset of listFiles(path.join(root, 'assets'))) {
  const rel = path.relative(root, asset).split(path.sep).join('/');
  if (!packedFiles.has(rel)) problems.push(`the tarball lacks the built asset ${rel}`);
}
for (const file of listFiles(path.join(root, 'dist', 'lib')).filter((f) => f.endsWith('.js'))) {
  const src = fs.readFileSync(file, 'utf-8');
  for (const m of src.matchAll(/require\(["'](\.{1,2}\/[^"']+)["']\)/g)) {
    const target = path.normalize(path.join(path.dirname(file), m[1]));
    const hit = [target, `${target}.js`, `${target}.json`, path.join(target, 'index.js')].find((c) => fs.existsSync(c) && fs.statSync(c).isFile());
    const rel = hit && path.relative(root, hit).split(path.sep).join('/');
    if (!hit || !packedFiles.has(rel)) problems.push(`${path.relative(root, file)} requires ${m[1]}, which the tarball does not hold`);
  }
}
if (problems.length > 0) fail(problems.map((p) => `  - ${p}`).join('\n'));

// 2. A separate app: its own package.json and lockfile; peers from the npm cache, then the tarball.
fs.cpSync(path.join(root, 'test', 'consumer'), app, { recursive: true });
const consumerPkg = JSON.parse(fs.readFileSync(path.join(app, 'package.json'), 'utf-8'));
for (const [name, range] of Object.entries(packageJson().peerDependencies)) {
  const pinned = consumerPkg.dependencies[name];
  if (!pinned) problems.push(`test/consumer/package.json does not install the peer ${name} (${range})`);
  else if (pinned !== packageJson().devDependencies[name]) {
    problems.push(`test/consumer/package.json pins ${name}@${pinned} but the library is tested with ${packageJson().devDependencies[name]}: keep them equal (and refresh test/consumer/package-lock.json with npm install there)`);
  }
}
if (problems.length > 0) fail(problems.map((p) => `  - ${p}`).join('\n'));
run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--loglevel=error'], app);
run('npm', ['install', '--offline', '--no-save', '--no-audit', '--no-fund', '--loglevel=error', tarball], app);

// 3. It loads, and exports every type of the jsii assembly.
const assembly = JSON.parse(fs.readFileSync(path.join(root, '.jsii'), 'utf-8'));
const exportedNames = JSON.parse(run(process.execPath, ['-e', 'process.stdout.write(JSON.stringify(Object.keys(require("cdk-container-patterns"))))'], app));
exported = new Set(exportedNames);
runtimeTypes = Object.values(assembly.types).filter((t) => t.kind !== 'interface');
for (const t of runtimeTypes) if (!exported.has(t.name)) problems.push(`require('cdk-container-patterns') lacks ${t.name}, which the jsii assembly declares`);
}

// The CLI the package installs answers as documented.
const cliVersion = run(path.join(app, 'node_modules', '.bin', 'config-check'), ['--version'], app).trim();
if (cliVersion !== packageJson().version) problems.push(`npx config-check --version printed ${JSON.stringify(cliVersion)}, expected ${packageJson().version}`);
if (!run(path.join(app, 'node_modules', '.bin', 'config-check'), ['--help'], app).includes('usage: config-check')) problems.push('npx config-check --help printed no usage');

// 4. README blocks, exactly as written, beside the app's own programs.
const cdkJson = { app: 'node build/ecs-only.js', context: JSON.parse(fs.readFileSync(path.join(app, 'node_modules', 'aws-cdk-lib', 'recommended-feature-flags.json'), 'utf-8')) };
fs.writeFileSync(path.join(app, 'cdk.json'), `${JSON.stringify(cdkJson, null, 2)}\n`);
const blocks = readmeBlocks(fs.readFileSync(path.resolve(root, opts.readme), 'utf-8'));
for (const b of blocks) {
  if (!/\.addPlugins\(/.test(b.code) || !/AwsSolutionsChecks/.test(b.code) || !/CfnGuardValidator\(/.test(b.code)) {
    problems.push(`README.md line ${b.line} (${b.section}): the block does not apply the policy plugins (Validations.of(app).addPlugins(new AwsSolutionsChecks(app), ..., new CfnGuardValidator())); every README program runs the same checks a user's app should`);
  }
  fs.writeFileSync(path.join(app, 'src', `${b.file}.ts`), `// README.md line ${b.line} (${b.section}), extracted by scripts/check-consumer.js\n${b.code}`);
}
if (problems.length > 0) fail(problems.map((p) => `  - ${p}`).join('\n'));
const programs = fs.readdirSync(path.join(app, 'src')).filter((f) => f.endsWith('.ts')).map((f) => f.replace(/\.ts$/, '')).sort();
try {
  run(process.execPath, [path.join(app, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'], app);
} catch (e) {
  fail(`README/consumer programs do not compile against the installed package:\n${e.message}`);
}

// 5. Synthesize each with the CDK CLI (feature flags from cdk.json, as cdk init writes them), then cfn-lint.
const cdk = path.join(app, 'node_modules', 'aws-cdk', 'bin', 'cdk');
const synthesized = [];
for (const program of programs) {
  const outdir = path.join(app, 'cdk.out', program);
  try {
    run(process.execPath, [cdk, 'synth', '--quiet', '--app', `node build/${program}.js`, '--output', outdir], app, { CDK_DISABLE_VERSION_CHECK: '1' });
  } catch (e) {
    problems.push(`${program}: cdk synth failed:\n${e.message}`);
    continue;
  }
  const templates = fs.readdirSync(outdir).filter((f) => f.endsWith('.template.json')).map((f) => path.join(outdir, f));
  if (templates.length === 0) problems.push(`${program}: synthesized no template`);
  synthesized.push(...templates);
}
if (problems.length > 0) fail(problems.map((p) => `  - ${p}`).join('\n'));
try {
  run('cfn-lint', synthesized, app);
} catch (e) {
  fail(`cfn-lint found problems in the consumer's templates:\n${e.message}`);
}
if (!opts.keep) fs.rmSync(path.join(app, 'node_modules'), { recursive: true, force: true });

const readmeCount = blocks.length;
console.log(`consumer gate: tarball ${packed.filename} ${packed.size} bytes, ${packed.entryCount} files; `
  + `loads with ${exported.size} exports (all ${runtimeTypes.length} jsii classes/enums); `
  + `README blocks compiled ${readmeCount}/${readmeCount} and synthesized ${readmeCount}/${readmeCount}, `
  + `${programs.length - readmeCount} consumer app program(s); cdk-nag, Control Tower rules and cfn-lint clean on ${synthesized.length} templates `
  + `(${((Date.now() - started) / 1000).toFixed(0)} s)`);

function packageJson() {
  return JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf-8'));
}

function listFiles(dir) {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? listFiles(path.join(dir, e.name)) : [path.join(dir, e.name)]));
}

/**
 * Every ```ts block with the section it sits in; blocks fenced as ```ts are programs and are all compiled.
 * A block whose first line is `// continues the "<section>" program` is compiled after that section's block.
 */
function readmeBlocks(markdown) {
  const out = [];
  let section = 'top';
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const heading = /^##+\s+(.*)$/.exec(lines[i]);
    if (heading) section = heading[1];
    if (!/^```(ts|typescript)\s*$/.test(lines[i])) continue;
    const start = i + 1;
    let end = start;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    const slug = section.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
    let code = lines.slice(start, end).join('\n') + '\n';
    // A block that starts with `// continues the "<section>" program` is that section's program plus this block.
    const continues = /^\/\/ continues the "([^"]+)" program/.exec(lines[start] ?? '');
    if (continues) {
      const base = out.find((b) => b.section.startsWith(continues[1]));
      if (!base) throw new Error(`README.md line ${start + 1}: continues "${continues[1]}", but no earlier ts block sits in a section of that name`);
      code = `${base.code}\n${code}`;
    }
    out.push({ line: start + 1, section, file: `readme-${String(out.length + 1).padStart(2, '0')}-${slug}`, code });
    i = end;
  }
  return out;
}
