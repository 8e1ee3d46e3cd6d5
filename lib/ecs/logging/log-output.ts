import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';

/** Options of an S3 destination. */
export interface S3LogOutputOptions {
  /**
   * Bucket to write to.
   * @default - the aggregators' shared, encrypted log bucket
   */
  readonly bucket?: s3.IBucket;
  /**
   * Key prefix of this log type's objects; the aggregators may write under it only.
   * @default 'logs/<log type>/'
   */
  readonly prefix?: string;
}

/** Options of a CloudWatch Logs destination. */
export interface CloudWatchLogOutputOptions {
  /**
   * Log group to write to.
   * @default - a new log group with one year of retention
   */
  readonly logGroup?: logs.ILogGroup;
}

/** Kinds of log destination. */
export enum LogOutputKind {
  /** Amazon S3: the cheap destination that motivated the forwarder topology. */
  S3 = 'S3',
  /** Amazon CloudWatch Logs: searchable at once, priced per GB ingested. */
  CLOUDWATCH_LOGS = 'CLOUDWATCH_LOGS',
}

/** Where the aggregators of one log type deliver it. */
export class LogOutput {
  /** Gzip-compressed objects in S3, one per aggregator flush. */
  public static toS3(options: S3LogOutputOptions = {}): LogOutput {
    return new LogOutput(LogOutputKind.S3, options.bucket, options.prefix, undefined);
  }

  /** Events in a CloudWatch Logs log group, one stream per tag. */
  public static toCloudWatchLogs(options: CloudWatchLogOutputOptions = {}): LogOutput {
    return new LogOutput(LogOutputKind.CLOUDWATCH_LOGS, undefined, undefined, options.logGroup);
  }

  private constructor(
    /** The kind of destination. */
    public readonly kind: LogOutputKind,
    /** The bucket, when the kind is S3 and one was given. */
    public readonly bucket?: s3.IBucket,
    /** The key prefix, when the kind is S3 and one was given. */
    public readonly prefix?: string,
    /** The log group, when the kind is CloudWatch Logs and one was given. */
    public readonly logGroup?: logs.ILogGroup,
  ) {}
}
