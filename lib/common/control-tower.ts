import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { acknowledgeDefaultSecurityGroupLockdown } from '../private/guard';
import { restrictGrantsToAwsServices } from '../private/kms';

/**
 * Helpers for apps that validate with the AWS Control Tower proactive controls
 * (`CfnGuardValidator` of @cdklabs/cdk-validator-cfnguard), for resources the app creates
 * itself. The library's own resources need none of them.
 */
export class ControlTower {
  /**
   * Acknowledges CT.LAMBDA.PR.3 on the function behind `ec2.Vpc`'s default-security-group
   * lockdown (one per stack, aws-cdk-lib's): it calls only the EC2 API at deploy time. Scoped to
   * that function; does nothing in a stack without it. Call it after creating the VPC.
   *
   * @param scope any construct of the stack
   */
  public static acknowledgeVpcDefaultSecurityGroupLockdown(scope: IConstruct): void {
    acknowledgeDefaultSecurityGroupLockdown(scope);
  }

  /**
   * Adds the key policy statement CT.KMS.PR.3 asks for: only AWS services may create grants on
   * the key (a Deny of kms:CreateGrant unless kms:GrantIsForAWSResource or aws:PrincipalIsAWSService).
   */
  public static restrictGrantsToAwsServices(key: kms.Key): void {
    restrictGrantsToAwsServices(key);
  }

  private constructor() {}
}
