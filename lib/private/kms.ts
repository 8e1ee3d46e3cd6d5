import { Aws, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import { Construct, IConstruct } from 'constructs';

const logsAllowed = new WeakSet<kms.IKey>();

/**
 * A customer managed key with rotation, whose policy lets only AWS services create grants
 * (Control Tower CT.KMS.PR.3): EBS, Auto Scaling and the like still get their grants, a principal
 * of the account that merely holds kms:* cannot hand the key to anyone else.
 */
export function newKey(scope: Construct, id: string, props: kms.KeyProps): kms.Key {
  const key = new kms.Key(scope, id, { enableKeyRotation: true, ...props });
  restrictGrantsToAwsServices(key);
  return key;
}

/** Adds the CT.KMS.PR.3 statement to a key this library creates. */
export function restrictGrantsToAwsServices(key: kms.Key): void {
  key.addToResourcePolicy(new iam.PolicyStatement({
    sid: 'AllowGrantsForAwsServicesOnly',
    effect: iam.Effect.DENY,
    principals: [new iam.AnyPrincipal()],
    actions: ['kms:CreateGrant'],
    // A key policy statement always concerns this key: "*" is the only value it takes.
    resources: ['*'],
    conditions: { BoolIfExists: { 'kms:GrantIsForAWSResource': 'false', 'aws:PrincipalIsAWSService': 'false' } },
  }));
}

/** Lets CloudWatch Logs of this account and region use `key` for log groups only (encryption-context condition). */
export function allowLogsToUse(key: kms.IKey): void {
  if (logsAllowed.has(key)) return;
  logsAllowed.add(key);
  const region = Stack.of(key).region;
  key.addToResourcePolicy(new iam.PolicyStatement({
    principals: [new iam.ServicePrincipal(`logs.${region}.amazonaws.com`)],
    actions: ['kms:Encrypt*', 'kms:Decrypt*', 'kms:ReEncrypt*', 'kms:GenerateDataKey*', 'kms:Describe*'],
    resources: ['*'],
    conditions: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': `arn:${Aws.PARTITION}:logs:${region}:${Aws.ACCOUNT_ID}:log-group:*` } },
  }));
}

const STACK_LOG_KEY_ID = 'ContainerPatternsLogKey';

/**
 * One key per stack for the log groups of the library's functions and of the CDK-provided
 * functions inside its constructs (CT.CLOUDWATCH.PR.3). Retained, like those log groups: deleting
 * it would leave retained logs unreadable; `removalPolicy` overrides that for a stack whose
 * log groups are all destroyed with it.
 */
export function stackLogKey(scope: IConstruct, removalPolicy?: RemovalPolicy): kms.IKey {
  const stack = Stack.of(scope);
  const key = stack.node.tryFindChild(STACK_LOG_KEY_ID) as kms.Key | undefined ?? newKey(stack, STACK_LOG_KEY_ID, {
    description: `Encrypts the CloudWatch log groups of cdk-container-patterns' functions in ${stack.stackName}`,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  allowLogsToUse(key);
  // A disposable stack (a pull-request environment) deletes its logs and this key with it.
  if (removalPolicy) key.applyRemovalPolicy(removalPolicy);
  return key;
}
