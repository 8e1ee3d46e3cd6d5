import { Duration } from 'aws-cdk-lib';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeControl } from '../../private/guard';

/** How long an overwritten or deleted log object stays recoverable. */
const NONCURRENT_VERSION_DAYS = 30;

/** Versioning, with old versions expiring (Control Tower CT.S3.PR.11), added to a log bucket's lifecycle rules. */
export function versionedLogBucketProps(lifecycleRules: s3.LifecycleRule[]): Partial<s3.BucketProps> {
  return {
    versioned: true,
    lifecycleRules: [...lifecycleRules, { noncurrentVersionExpiration: Duration.days(NONCURRENT_VERSION_DAYS) }],
  };
}

/** Object Lock costs storage and blocks teardown (issue 19): the user's option, by passing their own bucket. */
export function acknowledgeObjectLock(bucket: s3.Bucket, bucketProp: string): void {
  acknowledgeControl(bucket, 's3_bucket_object_lock_enabled_check',
    `Object Lock keeps every log version for its retention, so this bucket cannot be emptied or deleted with the stack; pass ${bucketProp} ` +
    'with a bucket of your own that has Object Lock where logs must be immutable.', bucketProp);
}
