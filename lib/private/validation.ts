import { Duration, Token } from 'aws-cdk-lib';
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

/** True when a value is only known at deploy time: literal checks must skip it. */
export function isUnresolved(value: unknown): boolean {
  if (value === undefined || value === null) return false;
  if (value instanceof Duration) return Token.isUnresolved(value.toSeconds({ integral: false }));
  // An element of a list token (CfnParameter.valueAsList) reads "#{Token[...]}", which
  // Token.isUnresolved does not recognise in a plain string.
  if (typeof value === 'string' && value.includes('#{Token[')) return true;
  return Token.isUnresolved(value);
}

/** Checks an integer range, skipping unresolved tokens (they are only known at deploy time). */
export function requireIntegerInRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < min || value > max) {
    invalidProp(scope, prop, value, `must be a whole number from ${min} to ${max}`, `Set ${prop} within that range.`);
  }
}

/** Checks a number range (fractions allowed), skipping unresolved tokens. */
export function requireNumberInRange(scope: IConstruct, prop: string, value: number | undefined, min: number, max: number): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isFinite(value) || value < min || value > max) {
    invalidProp(scope, prop, value, `must be a number from ${min} to ${max}`, `Set ${prop} within that range.`);
  }
}

/** Options of {@link requireDurationInRange}. */
export interface DurationRangeOptions {
  /** Why the upper limit exists (e.g. "the ECS limit for a container"), added to the message. */
  readonly maxReason?: string;
  /** Refuse fractions of a second. Default true. */
  readonly wholeSeconds?: boolean;
}

/**
 * Checks `min <= value <= max` for an optional Duration, skipping unresolved tokens; the message
 * shows durations the way users wrote them ("5 minutes"), not raw seconds.
 */
export function requireDurationInRange(scope: IConstruct, prop: string, value: Duration | undefined, min: Duration, max: Duration, options: DurationRangeOptions = {}): void {
  if (value === undefined || isUnresolved(value)) return;
  const seconds = value.toSeconds({ integral: false });
  if (seconds > max.toSeconds({ integral: false })) {
    const why = options.maxReason ? ` (${options.maxReason})` : '';
    invalidProp(scope, prop, value.toHumanString(), `exceeds ${max.toHumanString()}${why}`, `Set ${prop} to at most ${max.toHumanString()}.`);
  }
  if (seconds < min.toSeconds({ integral: false })) {
    invalidProp(scope, prop, value.toHumanString(), `is shorter than ${min.toHumanString()}`, `Set ${prop} to at least ${min.toHumanString()}.`);
  }
  if ((options.wholeSeconds ?? true) && !Number.isInteger(seconds)) {
    invalidProp(scope, prop, value.toHumanString(), 'is not a whole number of seconds', `Set ${prop} in whole seconds.`);
  }
}

/** Checks `lower <= upper` for two optional numbers, skipping unresolved tokens. */
export function requireOrdered(scope: IConstruct, lowerProp: string, lower: number | undefined, upperProp: string, upper: number | undefined): void {
  if (lower === undefined || upper === undefined || Token.isUnresolved(lower) || Token.isUnresolved(upper)) return;
  if (lower > upper) {
    invalidProp(scope, lowerProp, lower, `must not exceed ${upperProp} (${upper})`, `Raise ${upperProp} or lower ${lowerProp}.`);
  }
}

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Checks an RFC 1123 label (Kubernetes namespaces and Service names, Cloud Map service names), skipping tokens. */
export function requireDnsLabel(scope: IConstruct, prop: string, value: string | undefined, example = suggestLabel(value ?? '')): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (value.length > 63 || !DNS_1123_LABEL.test(value)) {
    invalidProp(scope, prop, value, 'is not a valid DNS-1123 label (lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters)',
      `Rename it, e.g. "${example}".`);
  }
}

/** Checks an RFC 1123 subdomain, optionally with a leading `*.` wildcard, skipping tokens. */
export function requireHostName(scope: IConstruct, prop: string, value: string | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  const bare = value.startsWith('*.') ? value.slice(2) : value;
  if (value.length > 253 || !DNS_1123_SUBDOMAIN.test(bare) || bare.split('.').some((l) => l.length > 63)) {
    invalidProp(scope, prop, value, 'is not a valid host name (lowercase DNS-1123 subdomain, optionally starting with "*.")',
      'Use a fully qualified lowercase host such as "api.example.com".');
  }
}

/**
 * Checks a parent domain that hosts are made under (`<label>.<value>`): a host name, not a
 * wildcard, and inside `zoneName` when a literal zone is given. Skips tokens.
 */
export function requireParentDomain(scope: IConstruct, prop: string, value: string, zoneName?: string): void {
  if (isUnresolved(value)) return;
  if (value.startsWith('*.')) {
    invalidProp(scope, prop, value, 'is a wildcard', `Give the parent domain itself, e.g. "${value.slice(2)}"; hosts are made under it.`);
  }
  requireHostName(scope, prop, value);
  if (zoneName !== undefined && !isUnresolved(zoneName) && value !== zoneName && !value.endsWith(`.${zoneName}`)) {
    invalidProp(scope, prop, value, `is not inside the hosted zone ${zoneName}`, 'Pass the zone that holds the domain, or a domain under the zone.');
  }
}

/** Checks a port number is a whole number from 1 to 65535, skipping tokens. */
export function requirePort(scope: IConstruct, prop: string, value: number | undefined): void {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    invalidProp(scope, prop, value, 'is not a valid port: it must be a whole number from 1 to 65535', `Set ${prop} to the port the container listens on.`);
  }
}

const IPV4_CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses a literal IPv4 CIDR into its first and last address (as numbers), or undefined when it is not one. */
function ipv4Range(cidr: string): { first: number; last: number } | undefined {
  const m = IPV4_CIDR.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const address = octets.reduce((acc, o) => acc * 256 + o, 0);
  const size = 2 ** (32 - prefix);
  const first = address - (address % size);
  return { first, last: first + size - 1 };
}

/**
 * Checks an IPv4 CIDR block (four octets 0-255, prefix 0-32), skipping unresolved tokens
 * (a CfnParameter or a VPC's CIDR is only known at deploy time).
 */
export function requireIpv4Cidr(scope: IConstruct, prop: string, value: string | undefined, example = '203.0.113.0/24'): void {
  if (value === undefined || isUnresolved(value)) return;
  if (!ipv4Range(value)) {
    invalidProp(scope, prop, value, 'is not an IPv4 CIDR block (four octets 0-255 and a prefix length 0-32)', `Write it like "${example}".`);
  }
}

/**
 * Refuses a list of IPv4 CIDRs that together cover the whole internet (`0.0.0.0/0`, or e.g.
 * `0.0.0.0/1` + `128.0.0.0/1`). Unresolved entries are skipped: only the literal ones are summed.
 */
export function requireNotWholeInternet(scope: IConstruct, prop: string, values: readonly string[], fix: string): void {
  const ranges = values.filter((v) => !isUnresolved(v)).map(ipv4Range).filter((r): r is { first: number; last: number } => r !== undefined)
    .sort((a, b) => a.first - b.first);
  let next = 0; // first address not covered yet
  for (const r of ranges) {
    if (r.first > next) return;
    next = Math.max(next, r.last + 1);
  }
  if (next > 0xffffffff) {
    invalidProp(scope, prop, values, 'together cover the whole IPv4 internet', fix);
  }
}

/** Lists the values that occur more than once, in first-seen order. */
export function duplicatesOf(values: readonly string[]): string[] {
  const seen = new Set<string>();
  const dup = new Set<string>();
  for (const v of values) (seen.has(v) ? dup : seen).add(v);
  return [...dup];
}

function suggestLabel(value: string): string {
  const s = value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s.length > 0 ? s : 'my-name';
}

function describe(value: unknown): string {
  if (typeof value === 'string') return Token.isUnresolved(value) ? 'a token' : JSON.stringify(value);
  if (value === undefined) return 'undefined';
  if (Array.isArray(value)) return `[${value.map(describe).join(', ')}]`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value);
  return String(value);
}
