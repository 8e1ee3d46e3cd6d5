import { CfnResource } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';

/**
 * Silences cfn-lint W3005 on one resource. aws-cdk-lib writes a DependsOn on a role (to order the
 * role's policy before first use) that the role's GetAtt already implies; the redundancy is
 * harmless and not ours to remove, and users who lint our templates should not see it.
 */
export function ignoreRedundantDependsOn(resource: IConstruct | undefined): void {
  if (resource instanceof CfnResource) resource.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
}
