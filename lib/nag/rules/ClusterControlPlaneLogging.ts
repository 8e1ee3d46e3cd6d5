import { parse } from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { CfnCluster } from 'aws-cdk-lib/aws-eks-v2';
import { NagRuleCompliance } from 'cdk-nag';

const REQUIRED = ['api', 'audit', 'authenticator', 'controllerManager', 'scheduler'];

/**
 * An aws-eks-v2 cluster publishes all five control-plane log types to CloudWatch Logs.
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    if (!(node instanceof CfnCluster)) return NagRuleCompliance.NOT_APPLICABLE;
    const logging = Stack.of(node).resolve(node.logging) ?? {};
    const enabled: unknown = logging.clusterLogging?.enabledTypes;
    if (!Array.isArray(enabled)) return NagRuleCompliance.NON_COMPLIANT;
    const types = new Set(enabled.map((t: { type?: unknown }) => t?.type));
    return REQUIRED.every((t) => types.has(t)) ? NagRuleCompliance.COMPLIANT : NagRuleCompliance.NON_COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);
