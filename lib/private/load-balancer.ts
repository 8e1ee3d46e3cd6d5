import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';

/**
 * Turns on a load balancer's access logs into `bucket` under `prefix`.
 *
 * `ApplicationLoadBalancer.logAccessLogs` needs a concrete region; this stays
 * environment-agnostic: the regional ELB account comes from a CloudFormation mapping and newer
 * regions deliver through the log delivery service principal.
 */
export function logLoadBalancerAccess(loadBalancer: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: string): void {
  const stack = Stack.of(loadBalancer);
  loadBalancer.setAttribute('access_logs.s3.enabled', 'true');
  loadBalancer.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  loadBalancer.setAttribute('access_logs.s3.prefix', prefix);
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${stack.account}/*`);
  const added = bucket.addToResourcePolicy(new iam.PolicyStatement({
    actions: ['s3:PutObject'],
    principals: [
      new iam.AccountPrincipal(stack.regionalFact(FactName.ELBV2_ACCOUNT)),
      new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com'),
    ],
    resources: [objects],
  }));
  // The load balancer checks write access when the attribute is set.
  if (added.policyDependable) loadBalancer.node.addDependency(added.policyDependable);
}

/** A retained bucket for load balancer access logs (SSE-S3: ALB access logs support no KMS keys). */
export function newAccessLogBucket(scope: Construct, id: string): s3.Bucket {
  const bucket = new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    removalPolicy: RemovalPolicy.RETAIN,
    lifecycleRules: [{ expiration: Duration.days(365) }],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This bucket only receives the load balancer access logs; logging access to the access-log bucket itself would recurse.',
  });
  return bucket;
}
