import * as policy from '../alb-controller-iam-policy.json';

/**
 * The AWS Load Balancer Controller's IAM policy (upstream, kept verbatim as JSON beside the code)
 * with its `arn:aws:` ARNs moved into the given partition, so the same file serves `aws`,
 * `aws-cn` and `aws-us-gov` (the partition may be a token in environment-agnostic stacks).
 */
export function albControllerPolicyJson(partition: string): { [key: string]: unknown } {
  const source = JSON.stringify((policy as { default?: unknown }).default ?? policy);
  return JSON.parse(source.split('arn:aws:').join(`arn:${partition}:`));
}

/** IAM's limit for a customer managed policy document, in characters excluding whitespace. */
export const MANAGED_POLICY_MAX_CHARS = 6144;

/** Every resource pattern of the upstream policy that contains a wildcard (cdk-nag IAM5 reports each one). */
export function albControllerWildcardResources(partition: string): string[] {
  const doc = albControllerPolicyJson(partition) as { Statement: Array<{ Resource: string | string[] }> };
  const resources = doc.Statement.flatMap((s) => (Array.isArray(s.Resource) ? s.Resource : [s.Resource]));
  return [...new Set(resources.filter((r) => r.includes('*')))].sort();
}
