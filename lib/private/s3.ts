import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgeControl } from './guard';

/**
 * Sends the bucket's object events to EventBridge (AWS Control Tower CT.S3.PR.4), set on the
 * CloudFormation bucket itself: the L2's `eventBridgeEnabled` goes through a notifications
 * custom resource and its Lambda function. Events cost nothing until a rule matches them.
 */
export function publishEventsToEventBridge(bucket: s3.Bucket): void {
  const cfn = bucket.node.defaultChild as s3.CfnBucket;
  cfn.notificationConfiguration = { eventBridgeConfiguration: { eventBridgeEnabled: true } };
}

/**
 * The Control Tower rules a log destination bucket cannot meet: `holds` says whose logs it receives.
 * S3 server access logs (and ALB access logs) are delivered only to buckets with SSE-S3; a bucket
 * logging its own writes would recurse; object lock would keep the logs past their lifecycle expiry.
 */
export function acknowledgeLogBucket(bucket: s3.Bucket, holds: string): void {
  acknowledgeControl(bucket, 's3_bucket_default_encryption_kms_check',
    `Holds ${holds}: S3 server access logs and load balancer access logs are delivered only to buckets encrypted with SSE-S3, not SSE-KMS.`);
  acknowledgeControl(bucket, 's3_bucket_logging_enabled_check',
    `Holds ${holds}: it is the access log destination, and logging it into itself or another bucket would only log the log writes.`);
  acknowledgeControl(bucket, 's3_bucket_object_lock_enabled_check',
    `Holds ${holds}, expired by a lifecycle rule; object lock would keep every object past that expiry and block deleting the bucket.`);
}
