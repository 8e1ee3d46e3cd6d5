import { Duration, RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FactName } from 'aws-cdk-lib/region-info';
import { Construct } from 'constructs';
import { acknowledgeControl } from './guard';
import { acknowledgeLogBucket, publishEventsToEventBridge } from './s3';

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
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
  });
  Validations.of(bucket).acknowledge({
    id: 'AwsSolutions-S1',
    reason: 'This bucket only receives the load balancer access logs; logging access to the access-log bucket itself would recurse.',
  });
  publishEventsToEventBridge(bucket);
  acknowledgeLogBucket(bucket, 'load balancer access logs');
  return bucket;
}

/**
 * The Control Tower controls a load balancer meets only through the user's choices: HTTPS needs
 * their certificate (CT.ELASTICLOADBALANCING.PR.1), and deletion protection (PR.5) would stop a
 * stack delete until someone turns it off by hand, so it is off unless asked for.
 */
export function acknowledgeLoadBalancerChoices(loadBalancer: elbv2.ApplicationLoadBalancer, httpListener: elbv2.ApplicationListener | undefined, deletionProtection: boolean): void {
  if (httpListener) {
    acknowledgeControl(httpListener, 'alb_http_to_https_redirection_check',
      'No certificate given: the listener serves plain HTTP; with a certificate it serves HTTPS and port 80 only redirects to it.', 'certificate');
  }
  if (!deletionProtection) {
    acknowledgeControl(loadBalancer, 'elbv2_deletion_protection_enabled_check',
      'Off by default so that deleting the stack finishes without a manual step (issue 19: every example deletes cleanly); turn it on for a load balancer that must survive a mistaken delete.', 'deletionProtection');
  }
}
