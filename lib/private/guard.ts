import { Stack, Validations } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/** The namespace aws-cdk-lib's policy validation gives the rules of @cdklabs/cdk-validator-cfnguard. */
const CFN_GUARD_NAMESPACE = 'cdk-validator-cfnguard';

/**
 * Acknowledges one AWS Control Tower proactive control (its cfn-guard rule name) on one resource,
 * through aws-cdk-lib's validation acknowledgements: the mechanism CfnGuardValidator reports
 * through, scoped to this construct and its children. `option` names the prop that satisfies the
 * control when the user can give what it needs (a certificate, subnets); without it the rule does
 * not apply or cannot be met. The reason appears in the validation report and docs/compliance.md.
 */
export function acknowledgeControl(scope: IConstruct, rule: string, reason: string, option?: string): void {
  const kind = option ? `option \`${option}\`` : 'exempt';
  Validations.of(scope).acknowledge({ id: `${CFN_GUARD_NAMESPACE}::${rule}`, reason: `[${kind}] ${reason}` });
}

/**
 * The function behind aws-cdk-lib's default-security-group lockdown of a new VPC (one per stack)
 * calls only the EC2 API, once per deployment, on the VPC it is created beside.
 */
export function acknowledgeDefaultSecurityGroupLockdown(scope: IConstruct): void {
  const handler = Stack.of(scope).node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider')?.node.tryFindChild('Handler');
  if (!handler || acknowledgedLockdowns.has(handler)) return;
  acknowledgedLockdowns.add(handler);
  acknowledgeControl(handler, 'lambda_inside_vpc_check',
    'aws-cdk-lib\'s default-security-group lockdown of a new VPC: it calls only the EC2 API at deploy time, and cannot run inside the VPC it is configuring before that VPC exists.');
}

const acknowledgedLockdowns = new WeakSet<IConstruct>();
