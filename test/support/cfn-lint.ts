import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

/**
 * Runs the real cfn-lint on a stack's template and returns its findings (empty when clean).
 * The npm test gate lints every synthesized example too; this gives a construct's own tests the same check.
 */
export function cfnLintFindings(stack: Stack): string[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cfn-lint-'));
  const file = path.join(dir, `${stack.stackName}.template.json`);
  fs.writeFileSync(file, JSON.stringify(Template.fromStack(stack).toJSON(), null, 1));
  try {
    execFileSync('cfn-lint', ['--format', 'parseable', file], { encoding: 'utf-8', stdio: ['ignore', 'pipe', 'pipe'] });
    return [];
  } catch (err) {
    const out = (err as { stdout?: string }).stdout ?? String(err);
    return out.split('\n').filter((l) => l.trim().length > 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
