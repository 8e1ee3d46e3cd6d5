import { IConstruct } from 'constructs';
import { invalidProp } from '../../../private/validation';

/**
 * A log type is the first part of a fluentd tag and also names a DNS host and a construct, so it
 * is the intersection of both alphabets: lowercase letters, digits and underscores.
 */
export const LOG_TYPE_PATTERN = /^[a-z][a-z0-9_]{0,29}$/;

/**
 * Names a log type cannot take: fluentd tags its own events `fluent.*`, and the forwarder's output
 * for tags of no log type is called `unmatched` (its plugin id and buffer folder).
 */
const RESERVED = new Map([
  ['fluent', 'fluentd tags its own events with it'],
  ['unmatched', 'the forwarder\'s output for tags of no log type has this name'],
]);

export function validateLogType(scope: IConstruct, prop: string, value: string): void {
  if (!LOG_TYPE_PATTERN.test(value)) {
    invalidProp(scope, prop, value, 'is not a valid log type (a fluentd tag part of 1 to 30 lowercase letters, digits or underscores, starting with a letter)', `Rename it, e.g. "${suggest(value)}".`);
  }
  if (RESERVED.has(value)) {
    invalidProp(scope, prop, value, `is reserved: ${RESERVED.get(value)}`, 'Choose another log type name.');
  }
}

/** A tag an application container may log with: a log type, optionally followed by dot-separated parts. */
export function validateLogTag(scope: IConstruct, prop: string, value: string): void {
  const parts = value.split('.');
  if (!LOG_TYPE_PATTERN.test(parts[0]) || RESERVED.has(parts[0]) || !parts.slice(1).every((p) => /^[a-z0-9_]+$/.test(p))) {
    invalidProp(scope, prop, value, 'is not a valid fluentd tag of a log type (e.g. "rails" or "rails.access")', `Use a log type name, optionally with dot-separated lowercase parts, e.g. "${suggest(parts[0])}".`);
  }
}

/** The DNS label of a log type (underscores are not allowed in host names). */
export function dnsLabelOf(logType: string): string {
  return logType.replace(/_/g, '-');
}

/** The construct id of a log type. */
export function idOf(logType: string): string {
  return logType.split('_').map((p) => p.charAt(0).toUpperCase() + p.slice(1)).join('');
}

function suggest(value: string): string {
  const cleaned = value.toLowerCase().replace(/[^a-z0-9_]/g, '_').replace(/^[^a-z]+/, '').slice(0, 30);
  return cleaned.length > 0 && !RESERVED.has(cleaned) ? cleaned : 'app';
}
