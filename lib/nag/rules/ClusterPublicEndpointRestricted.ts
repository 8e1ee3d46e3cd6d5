import { parse } from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { CfnCluster } from 'aws-cdk-lib/aws-eks-v2';
import { NagRuleCompliance, NagRules } from 'cdk-nag';

const OPEN = ['0.0.0.0/0', '::/0'];

/**
 * An aws-eks-v2 cluster's API endpoint is private, or public only to listed CIDRs that are not
 * the whole internet. (The EKS API opens a public endpoint to 0.0.0.0/0 when nothing is said.)
 * @param node the CfnResource to check
 */
export default Object.defineProperty(
  (node: CfnResource): NagRuleCompliance => {
    if (!(node instanceof CfnCluster)) return NagRuleCompliance.NOT_APPLICABLE;
    const vpcConfig = Stack.of(node).resolve(node.resourcesVpcConfig) ?? {};
    const publicAccess = NagRules.resolveIfPrimitive(node, vpcConfig.endpointPublicAccess);
    if (publicAccess === false) return NagRuleCompliance.COMPLIANT;
    const cidrs: unknown = vpcConfig.publicAccessCidrs;
    if (!Array.isArray(cidrs) || cidrs.length === 0) return NagRuleCompliance.NON_COMPLIANT;
    // A CIDR we cannot read at synth time might be anything: treat it as open.
    const open = cidrs.some((c) => typeof c !== 'string' || OPEN.includes(c.trim()));
    return open ? NagRuleCompliance.NON_COMPLIANT : NagRuleCompliance.COMPLIANT;
  },
  'name',
  { value: parse(__filename).name },
);
