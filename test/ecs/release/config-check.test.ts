import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { EXIT_NOTHING_TO_RUN, EXIT_STEPS_TO_RUN, EXIT_USAGE, main } from '../../../bin/config-check';
import { ConfigCheck, ConfigCheckStep } from '../../../lib/ecs/release';

const STEPS: ConfigCheckStep[] = [
  { name: 'install', inputs: ['Dockerfile', 'Gemfile', 'Gemfile.lock'] },
  { name: 'migrate', inputs: ['db/migrate'] },
];

const tmpDirs: string[] = [];
afterAll(() => tmpDirs.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/** A temporary application tree; later entries are written after earlier ones. */
function tree(files: Record<string, string | Buffer>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'config-check-'));
  tmpDirs.push(root);
  for (const [rel, content] of Object.entries(files)) write(root, rel, content);
  return root;
}

function write(root: string, rel: string, content: string | Buffer): void {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
}

const RAILS_APP = {
  'Dockerfile': 'FROM ruby:3.3\n',
  'Gemfile': "source 'https://rubygems.org'\ngem 'rails'\n",
  'Gemfile.lock': 'GEM\n  specs:\n    rails (7.2.0)\n',
  'db/migrate/20240101000000_create_users.rb': 'class CreateUsers; end\n',
  'db/migrate/20240102000000_add_email.rb': 'class AddEmail; end\n',
  'app/models/user.rb': 'class User; end\n',
};

function checker(root: string, ignore?: string[]): ConfigCheck {
  return new ConfigCheck({ rootDir: root, steps: STEPS, ignore });
}

/** Records the tree, applies a change, and returns the steps that must run again. */
function stepsAfter(change: (root: string) => void, files: Record<string, string | Buffer> = RAILS_APP, ignore?: string[]): string[] {
  const root = tree(files);
  checker(root, ignore).record();
  change(root);
  return checker(root, ignore).check().stepsToRun;
}

describe('ConfigCheck digests', () => {
  test('identical trees give identical digests, whatever the creation order, on every run', () => {
    // GIVEN two trees with the same content written in opposite orders
    const a = tree(RAILS_APP);
    const b = tree(Object.fromEntries(Object.entries(RAILS_APP).reverse()));
    // WHEN
    const first = checker(a).computeManifest();
    // THEN
    expect(checker(b).computeManifest()).toEqual(first);
    expect(checker(a).computeManifest()).toEqual(first);
    expect(first.inputs['db/migrate']).toMatch(/^[0-9a-f]{64}$/);
  });

  test('the digest follows the documented record format (computed independently with Python hashlib)', () => {
    // GIVEN d/ with a file, a symlink and an empty directory
    const root = tree({ 'd/a.txt': 'a' });
    fs.symlinkSync('a.txt', path.join(root, 'd/l'));
    fs.mkdirSync(path.join(root, 'd/empty'));
    const c = new ConfigCheck({ rootDir: root, steps: [{ name: 's', inputs: ['d', 'nope'] }] });
    // THEN sha256 over the sorted records "dir\0d\n", "dir\0d/empty\n", "file\0d/a.txt\0<sha256(a)>\n", "link\0d/l\0a.txt\n"
    expect(c.digestInput('d')).toBe('86fb7a059dbe771ec940c5b620c8b83a0ddd32c77956cad976bb9abb4c312c8f');
    expect(c.digestInput('nope')).toBe('0322222879e8197dbabd99d335884088ceab5a0b733bfa28ca61caf265a7bd93');
  });

  test('nothing runs again when nothing changed', () => {
    expect(stepsAfter(() => undefined)).toEqual([]);
  });

  test('every step runs when there is no manifest', () => {
    const result = checker(tree(RAILS_APP)).check();
    expect(result.previousManifestFound).toBe(false);
    expect(result.stepsToRun).toEqual(['install', 'migrate']);
  });

  test('every step runs when the manifest is corrupt', () => {
    const root = tree(RAILS_APP);
    const c = checker(root);
    c.record();
    fs.writeFileSync(c.manifestFile, '{"version": 1, "inputs": ');
    expect(c.check().stepsToRun).toEqual(['install', 'migrate']);
  });

  test('a content change of Gemfile.lock makes install run again, and only install', () => {
    expect(stepsAfter((root) => write(root, 'Gemfile.lock', 'GEM\n  specs:\n    rails (7.2.1)\n'))).toEqual(['install']);
  });

  test('the changed inputs are named', () => {
    const root = tree(RAILS_APP);
    checker(root).record();
    write(root, 'Dockerfile', 'FROM ruby:3.4\n');
    expect(checker(root).check().steps[0]).toMatchObject({ name: 'install', mustRun: true, changedInputs: ['Dockerfile'] });
  });

  test('an added migration makes migrate run again', () => {
    expect(stepsAfter((root) => write(root, 'db/migrate/20240103000000_add_name.rb', 'class AddName; end\n'))).toEqual(['migrate']);
  });

  test('a deleted migration makes migrate run again', () => {
    expect(stepsAfter((root) => fs.rmSync(path.join(root, 'db/migrate/20240102000000_add_email.rb')))).toEqual(['migrate']);
  });

  test('a renamed migration with the same content makes migrate run again', () => {
    expect(stepsAfter((root) => fs.renameSync(
      path.join(root, 'db/migrate/20240102000000_add_email.rb'),
      path.join(root, 'db/migrate/20240109000000_add_email.rb'),
    ))).toEqual(['migrate']);
  });

  test('an empty directory counts', () => {
    expect(stepsAfter((root) => fs.mkdirSync(path.join(root, 'db/migrate/archive')))).toEqual(['migrate']);
  });

  test('a deleted input file counts, and so does one that appears', () => {
    expect(stepsAfter((root) => fs.rmSync(path.join(root, 'Gemfile.lock')))).toEqual(['install']);
    const withoutLock = Object.fromEntries(Object.entries(RAILS_APP).filter(([rel]) => rel !== 'Gemfile.lock'));
    expect(stepsAfter((root) => write(root, 'Gemfile.lock', 'GEM\n'), withoutLock)).toEqual(['install']);
  });

  test('a change outside every input runs nothing', () => {
    expect(stepsAfter((root) => write(root, 'app/models/user.rb', 'class User < ApplicationRecord; end\n'))).toEqual([]);
  });

  test('a symlink is hashed as its target path: re-pointing it counts, changing the file it points to does not', () => {
    // GIVEN db/migrate/shared.rb -> ../../shared/v1.rb, outside every input
    const files = { ...RAILS_APP, 'shared/v1.rb': 'one\n', 'shared/v2.rb': 'two\n' };
    const link = (root: string, target: string) => {
      fs.rmSync(path.join(root, 'db/migrate/shared.rb'), { force: true });
      fs.symlinkSync(target, path.join(root, 'db/migrate/shared.rb'));
    };
    const root = tree(files);
    link(root, '../../shared/v1.rb');
    checker(root).record();
    // WHEN the target's content changes THEN nothing runs (the link is not followed)
    write(root, 'shared/v1.rb', 'changed\n');
    expect(checker(root).check().stepsToRun).toEqual([]);
    // WHEN the link is re-pointed THEN migrate runs
    link(root, '../../shared/v2.rb');
    expect(checker(root).check().stepsToRun).toEqual(['migrate']);
  });

  test('a symlink to a directory is not descended into', () => {
    const root = tree({ ...RAILS_APP, 'vendor/big/a.txt': 'a' });
    fs.symlinkSync('../../vendor', path.join(root, 'db/migrate/vendor'));
    checker(root).record();
    write(root, 'vendor/big/b.txt', 'b');
    expect(checker(root).check().stepsToRun).toEqual([]);
  });

  test('binary files are hashed as bytes: one changed byte counts, and CRLF differs from LF', () => {
    const bytes = Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x80, 0x00]);
    const files = { ...RAILS_APP, 'db/migrate/seed.bin': bytes };
    expect(stepsAfter((root) => write(root, 'db/migrate/seed.bin', Buffer.from([0x00, 0xff, 0xfe, 0x0d, 0x0a, 0x81, 0x00])), files)).toEqual(['migrate']);
    expect(stepsAfter((root) => write(root, 'Dockerfile', 'FROM ruby:3.3\r\n'))).toEqual(['install']);
  });

  test('ignored files and directories do not count', () => {
    const ignore = ['.DS_Store', 'db/migrate/tmp/**', '*.swp'];
    expect(stepsAfter((root) => {
      write(root, 'db/migrate/.DS_Store', 'finder');
      write(root, 'db/migrate/tmp/scratch.rb', 'x');
      write(root, 'db/migrate/.20240101000000_create_users.rb.swp', 'vim');
    }, RAILS_APP, ignore)).toEqual([]);
  });

  test('an ignore pattern with a slash is anchored at the root', () => {
    // db/migrate/tmp/** does not ignore a tmp directory elsewhere under db/migrate
    expect(stepsAfter((root) => write(root, 'db/migrate/old/tmp/x.rb', 'x'), RAILS_APP, ['db/migrate/tmp/**'])).toEqual(['migrate']);
  });
});

describe('ConfigCheck props', () => {
  test('fails when no step is given', () => {
    expect(() => new ConfigCheck({ rootDir: '.', steps: [] })).toThrow(/steps \(\[\]\) must name at least one step/);
  });

  test('fails when an input leaves the root directory', () => {
    expect(() => new ConfigCheck({ rootDir: '.', steps: [{ name: 'install', inputs: ['../Gemfile'] }] }))
      .toThrow(/input \("..\/Gemfile"\) must be a file or directory inside the root directory/);
  });

  test('fails when a step name is given twice', () => {
    expect(() => new ConfigCheck({ rootDir: '.', steps: [{ name: 'a', inputs: ['x'] }, { name: 'a', inputs: ['y'] }] }))
      .toThrow(/step name \("a"\) is given twice/);
  });
});

describe('config-check CLI', () => {
  function cli(root: string, ...args: string[]): { code: number; stdout: string; stderr: string } {
    let stdout = '';
    let stderr = '';
    const code = main(args, (s) => { stdout += s; }, (s) => { stderr += s; }, root);
    return { code, stdout, stderr };
  }

  function app(): string {
    const root = tree(RAILS_APP);
    fs.writeFileSync(path.join(root, 'config-check.json'), JSON.stringify({
      steps: { install: ['Dockerfile', 'Gemfile', 'Gemfile.lock'], migrate: ['db/migrate'] },
      ignore: ['.DS_Store'],
    }));
    return root;
  }

  test('exits 10 and lists every step before anything was recorded', () => {
    const r = cli(app());
    expect(r.code).toBe(EXIT_STEPS_TO_RUN);
    expect(r.code).toBe(10);
    expect(r.stdout).toBe('install\nmigrate\n');
  });

  test('exits 0 after record when nothing changed', () => {
    const root = app();
    expect(cli(root, 'record').code).toBe(0);
    const r = cli(root, 'check');
    expect(r.code).toBe(EXIT_NOTHING_TO_RUN);
    expect(r.stdout).toBe('');
  });

  test('--json names the steps to run and the changed inputs', () => {
    const root = app();
    cli(root, 'record');
    write(root, 'db/migrate/20240103000000_add_name.rb', 'x');
    const r = cli(root, '--json');
    expect(r.code).toBe(10);
    const out = JSON.parse(r.stdout);
    expect(out.stepsToRun).toEqual(['migrate']);
    expect(out.previousManifestFound).toBe(true);
    expect(out.steps[1]).toMatchObject({ name: 'migrate', mustRun: true, changedInputs: ['db/migrate'] });
  });

  test('check writes nothing, so a failed step runs again', () => {
    const root = app();
    cli(root);
    expect(cli(root).code).toBe(10);
    expect(fs.existsSync(path.join(root, '.config-check'))).toBe(false);
  });

  test('the manifest does not change its own digest', () => {
    const root = tree(RAILS_APP);
    fs.writeFileSync(path.join(root, 'config-check.json'), JSON.stringify({ steps: { migrate: ['db/migrate'] }, manifest: 'db/migrate/.config-check.json' }));
    cli(root, 'record');
    expect(cli(root).code).toBe(0);
  });

  test('exits 2 on an unknown option', () => {
    const r = cli(app(), '--frobnicate');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("Unknown option '--frobnicate'");
    expect(r.stderr).toContain('usage: config-check');
    expect(r.stdout).toBe('');
  });

  test('exits 2 on an unknown command or two commands', () => {
    expect(cli(app(), 'verify')).toMatchObject({ code: EXIT_USAGE, stdout: '' });
    expect(cli(app(), 'verify').stderr).toContain('unknown command: verify');
    expect(cli(app(), 'check', 'record').stderr).toContain('only one command is allowed');
  });

  test('exits 2 when an option lacks its value', () => {
    const r = cli(app(), '--config');
    expect(r.code).toBe(EXIT_USAGE);
    expect(r.stderr).toContain("Option '--config <value>' argument missing");
  });

  test('--help and -h print the help on stdout and exit 0', () => {
    for (const flag of ['--help', '-h']) {
      const r = cli(tree({}), flag);
      expect(r).toMatchObject({ code: 0, stderr: '' });
      expect(r.stdout).toContain('usage: config-check [check|record]');
      expect(r.stdout).toContain('Exit codes:');
    }
  });

  test('--version prints the package version on stdout and exits 0', () => {
    const r = cli(tree({}), '--version');
    const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', '..', 'package.json'), 'utf-8'));
    expect(r).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
  });

  test('exits 2 when the config file is missing', () => {
    const r = cli(tree({}), 'check');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('cannot read config');
  });

  test('exits 2 when the config has no steps object', () => {
    const root = tree({ 'config-check.json': '{"steps": ["Dockerfile"]}' });
    const r = cli(root);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('"steps" must be an object');
  });

  test('accepts the config file the README documents, as written', () => {
    const readme = fs.readFileSync(path.join(__dirname, '..', '..', '..', 'README.md'), 'utf-8');
    const example = /The config file \(`config-check\.json`, JSON\):\n\n```json\n([\s\S]*?)```/.exec(readme);
    expect(example).not.toBeNull();
    const root = tree(RAILS_APP);
    fs.writeFileSync(path.join(root, 'config-check.json'), example![1]);
    const r = cli(root, '--json');
    expect(r.code).toBe(EXIT_STEPS_TO_RUN);
    expect(JSON.parse(r.stdout).stepsToRun).toEqual(['install', 'assets', 'migrate']);
  });
});
