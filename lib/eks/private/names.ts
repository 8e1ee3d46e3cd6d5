import { Token } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { invalidProp } from '../../private/validation';

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Checks that a namespace name is a DNS-1123 label (what the Kubernetes API accepts). */
export function requireNamespaceName(scope: IConstruct, prop: string, name: string): void {
  if (Token.isUnresolved(name)) return;
  if (name.length > 63 || !DNS1123_LABEL.test(name)) {
    invalidProp(scope, prop, name, 'is not a valid namespace name (a DNS-1123 label: at most 63 lower-case letters, digits and "-", starting and ending with a letter or digit)',
      'Rename the namespace, e.g. "ml-recommender".');
  }
}

/**
 * Namespaces that Kubernetes, EKS or a platform add-on owns. Edit rights in any of them reach
 * cluster-wide power (tigera-operator runs Calico with near cluster-admin rights; default and
 * kube-* hold system objects), so they are never application namespaces nor developer namespaces.
 */
const RESERVED_NAMESPACES = new Set([
  'default', 'tigera-operator', 'calico-system', 'calico-apiserver', 'amazon-cloudwatch', 'amazon-guardduty',
  'aws-observability', 'karpenter', 'keda', 'cert-manager', 'external-dns', 'aws-load-balancer-controller', 'monitoring',
]);

/** True for a namespace this library refuses as an application or developer namespace. */
export function isReservedNamespace(name: string): boolean {
  return name.startsWith('kube-') || name.startsWith('eks-') || RESERVED_NAMESPACES.has(name);
}

export { pascalCase } from '../../private/naming';
