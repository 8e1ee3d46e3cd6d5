import * as kms from 'aws-cdk-lib/aws-kms';
import { IConstruct } from 'constructs';
import { stackLogKey } from '../private/kms';

/**
 * The KMS key this library encrypts its CloudWatch log groups with: one per stack, created on first
 * use, with rotation, usable by CloudWatch Logs of the stack's account and region for log groups
 * only. Use it for your own log groups in the same stack (VPC flow logs, say) rather than a key each.
 */
export class StackLogKey {
  /** The key of the stack that `scope` belongs to. */
  public static of(scope: IConstruct): kms.IKey {
    return stackLogKey(scope);
  }

  private constructor() {}
}
