import { parse } from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { CfnCluster } from 'aws-cdk-lib/aws-eks-v2';
import { NagRuleCompliance } from 'cdk-nag';

/**
 * An aws-eks-v2 cluster encrypts Kubernetes Secrets with a KMS key (envelope encryption).
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    if (!(node instanceof CfnCluster)) return NagRuleCompliance.NOT_APPLICABLE;
    const configs: unknown = Stack.of(node).resolve(node.encryptionConfig);
    if (!Array.isArray(configs)) return NagRuleCompliance.NON_COMPLIANT;
    const encrypted = configs.some((c: { provider?: { keyArn?: unknown }; resources?: unknown }) =>
      c?.provider?.keyArn !== undefined && Array.isArray(c.resources) && c.resources.includes('secrets'));
    return encrypted ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);
