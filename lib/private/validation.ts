import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Thrown when a construct's props cannot produce a deployable stack.
 *
 * The message always carries the construct path, the prop, the value received and what to do,
 * so a failing `cdk synth` in CI points straight at the line to change.
 */
export class PropValidationError extends Error {
  constructor(scope: IConstruct, prop: string, value: unknown, problem: string, fix: string) {
    super(`${scope.node.path}: ${prop} (${describe(value)}) ${problem}. ${fix}`);
    this.name = 'PropValidationError';
  }
}

/** Throws a {@link PropValidationError}; reads better inline than `throw new ...`. */
export function invalidProp(scope: IConstruct, prop: string, value: unknown, problem: string, fix: string): never {
  throw new PropValidationError(scope, prop, value, problem, fix);
}

/** Checks an integer range, skipping unresolved tokens (they are only known at deploy time). */
export function requireIntegerInRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    invalidProp(scope, prop, value, `must be a whole number from ${min} to ${max}`, `Set ${prop} within that range.`);
  }
}

/** Checks `lower <= upper` for two optional numbers, skipping unresolved tokens. */
export function requireOrdered(scope: IConstruct, lowerProp: string, lower: number | undefined, upperProp: string, upper: number | undefined): void {
  if (lower === undefined || upper === undefined || Token.isUnresolved(lower) || Token.isUnresolved(upper)) return;
  if (lower > upper) {
    throw new Error(`${scope.node.path}: ${lowerProp} (${lower}) must not exceed ${upperProp} (${upper}). Raise ${upperProp} or lower ${lowerProp}.`);
  }
}

/** Lists the values that occur more than once, in first-seen order. */
export function duplicatesOf(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

function describe(value: unknown): string {
  if (typeof value === 'string') return Token.isUnresolved(value) ? 'a token' : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
