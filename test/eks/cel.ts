import { execFileSync } from 'child_process';

/** One CEL expression and the variables it sees. */
export interface CelCase {
  readonly expression: string;
  readonly context: Record<string, unknown>;
}

// @marcbachmann/cel-js is ESM-only, which jest's CommonJS runtime cannot load: evaluate in a plain
// Node process instead (Node 20 imports ESM natively). Results are the values CEL returned, or
// `error: ...` when an expression does not parse or evaluate - a test then fails on it.
const SCRIPT = `
import { evaluate } from '@marcbachmann/cel-js';
let input = '';
process.stdin.on('data', (d) => { input += d; });
process.stdin.on('end', () => {
  const out = JSON.parse(input).map((c) => { try { return evaluate(c.expression, c.context); } catch (e) { return 'error: ' + e.message; } });
  process.stdout.write(JSON.stringify(out));
});
`;

/** Evaluates CEL expressions with a real CEL implementation, in order. */
export function evaluateCel(cases: readonly CelCase[]): unknown[] {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', SCRIPT], { input: JSON.stringify(cases), encoding: 'utf-8', cwd: __dirname });
  return JSON.parse(out) as unknown[];
}
