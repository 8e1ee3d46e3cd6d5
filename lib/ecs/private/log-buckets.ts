import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeControl } from '../../private/guard';

/** How long an overwritten or deleted log object stays recoverable. */
const NONCURRENT_VERSION_DAYS = 30;

/** Bucket props the Control Tower controls ask of every bucket the ECS constructs create (CT.S3.PR.11): versioning, with old versions expiring. */
export function versionedLogBucketProps(lifecycleRules: s3.LifecycleRule[]): Partial<s3.BucketProps> {
  return {
    versioned: true,
    lifecycleRules: [...lifecycleRules, { noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS) }],
  };
}

/**
 * Publishes the bucket's object events to EventBridge (CT.S3.PR.4), in the bucket's own
 * NotificationConfiguration: `eventBridgeEnabled` would add a Lambda-backed custom resource.
 */
export function enableEventBridge(bucket: s3.Bucket): void {
  (bucket.node.defaultChild as s3.CfnBucket).addPropertyOverride('NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled', true);
}

/**
 * The acknowledgements of a bucket that receives AWS service logs (load balancer or S3 server
 * access logs): those services write SSE-S3 only, and logging the access to a log bucket recurses.
 * Object Lock is the user's option through `bucketProp` (a bucket of their own).
 */
export function acknowledgeServiceLogBucket(bucket: s3.Bucket, writer: string, bucketProp: string): void {
  acknowledgeControl(bucket, 's3_bucket_default_encryption_kms_check',
    `${writer} only into buckets encrypted with SSE-S3 (AES256), not SSE-KMS, so this destination keeps S3-managed keys.`);
  acknowledgeControl(bucket, 's3_bucket_logging_enabled_check',
    'This bucket is itself the access-log destination; logging access to it into another bucket would need that bucket logged too, without end.');
  acknowledgeObjectLock(bucket, bucketProp);
}

/** Object Lock costs storage and blocks teardown (issue 19): the user's option, by passing their own bucket. */
export function acknowledgeObjectLock(bucket: s3.Bucket, bucketProp: string): void {
  acknowledgeControl(bucket, 's3_bucket_object_lock_enabled_check',
    `Object Lock keeps every log version for its retention, so this bucket cannot be emptied or deleted with the stack; pass ${bucketProp} ` +
    'with a bucket of your own that has Object Lock where logs must be immutable.', bucketProp);
}
