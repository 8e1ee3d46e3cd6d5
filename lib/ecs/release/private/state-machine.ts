import { CfnResource, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/**
 * StateMachine depends on its role and the role's policy; the role dependency repeats the GetAtt of
 * RoleArn, which cfn-lint reports (W3005). Keep only the policy: it must exist before the first execution.
 */
export function dependOnPolicyOnly(stateMachine: sfn.StateMachine): void {
  const policy = stateMachine.role.node.tryFindChild('DefaultPolicy')?.node.defaultChild;
  const cfn = stateMachine.node.defaultChild as CfnResource;
  if (policy instanceof CfnResource) cfn.addOverride('DependsOn', [Stack.of(stateMachine).getLogicalId(policy)]);
}
