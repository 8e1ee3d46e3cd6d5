import { IConstruct } from 'constructs';
import { invalidProp } from '../../../private/validation';

const DNS_1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** Kubernetes namespaces and Service names are RFC 1123 labels: lowercase alphanumerics and '-', at most 63 characters. */
export function requireDnsLabel(scope: IConstruct, prop: string, value: string): void {
  if (value.length > 63 || !DNS_1123_LABEL.test(value)) {
    invalidProp(scope, prop, value, 'is not a valid DNS-1123 label (lowercase letters, digits and \'-\', starting and ending with a letter or digit, at most 63 characters)',
      `Rename it, e.g. "${suggestLabel(value)}".`);
  }
}

/** Host names of Ingress rules are RFC 1123 subdomains, optionally with a leading `*.` wildcard. */
export function requireHostName(scope: IConstruct, prop: string, value: string): void {
  const bare = value.startsWith('*.') ? value.slice(2) : value;
  if (value.length > 253 || !DNS_1123_SUBDOMAIN.test(bare) || bare.split('.').some((l) => l.length > 63)) {
    invalidProp(scope, prop, value, 'is not a valid host name (lowercase DNS-1123 subdomain, optionally starting with "*.")',
      'Use a fully qualified lowercase host such as "api.example.com".');
  }
}

/** Checks a port number is a whole number from 1 to 65535 (tokens are refused: policies are rendered at synth time). */
export function requirePort(scope: IConstruct, prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    invalidProp(scope, prop, value, 'is not a valid port: it must be a whole number from 1 to 65535', `Set ${prop} to the container port the pods listen on.`);
  }
}

function suggestLabel(value: string): string {
  const s = value.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 63).replace(/-+$/, '');
  return s.length > 0 ? s : 'my-namespace';
}
