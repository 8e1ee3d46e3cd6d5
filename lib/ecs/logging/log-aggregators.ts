import { Aws, Duration, Names, RemovalPolicy, Validations } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct, IConstruct } from 'constructs';
import { FluentdImage } from './fluentd-image';
import { LogOutput, LogOutputKind } from './log-output';
import { FLUENTD_BUFFER_PATH, FLUENTD_FAILED_PATH, fluentdContainerParts } from './private/fluentd-container';
import { AGGREGATOR_PORT, MONITOR_PORT, TELEMETRY_INTERVAL_SECONDS } from './private/constants';
import { allowForwarders } from './private/network';
import { AggregatorConfig, aggregatorPluginId, BufferConfig, OverflowAction, renderAggregatorConfig } from './private/fluentd-config';
import { addSecondaryFileShipper, SECONDARY_KEY_ROOT } from './private/secondary-shipper';
import { addRouteAlarms, addTelemetryFilters, FluentdMetricName, fluentdMetric } from './private/telemetry';
import { dnsLabelOf, idOf, validateLogType } from './private/tags';
import { newKey } from '../../private/kms';
import { acknowledgeWildcards } from '../../private/nag';
import { acknowledgeLogBucket, publishEventsToEventBridge } from '../../private/s3';
import { acknowledgeObjectLock, versionedLogBucketProps } from '../private/log-buckets';
import { duplicatesOf, invalidProp, requireIntegerInRange, requirePort } from '../../private/validation';

/** Smallest memory a fluentd aggregator gets: Ruby, the output plugin and in-flight chunks. */
const MIN_AGGREGATOR_MEMORY_MIB = 256;
/** Disk budget of an aggregator's file buffer. */
const AGGREGATOR_BUFFER_LIMIT_MIB = 4096;

/** One log type and where its aggregators deliver it. */
export interface LogTypeOptions {
  /**
   * The log type: the first part of the fluentd tags routed to these aggregators (`rails` takes
   * `rails` and `rails.*`). Lowercase letters, digits and underscores.
   */
  readonly name: string;
  /** Where the aggregators deliver the logs. */
  readonly output: LogOutput;
  /**
   * Number of aggregator tasks, spread across AZs and instances.
   * @default 2
   */
  readonly aggregatorCount?: number;
  /**
   * Accept fewer than two aggregators, knowing that one failed task then stops this log type
   * until ECS replaces it (the forwarders buffer meanwhile).
   * @default false
   */
  readonly allowSingleAggregator?: boolean;
  /**
   * Memory of each aggregator task.
   * @default 512
   */
  readonly memoryLimitMiB?: number;
  /**
   * CPU units of each aggregator task.
   * @default 256
   */
  readonly cpu?: number;
  /**
   * The fluentd image of the aggregators.
   * @default - FluentdImage.S3_V1_17 or FluentdImage.CLOUDWATCH_V1_17, after the output
   */
  readonly image?: FluentdImage;
}

export interface LogAggregatorsProps {
  /** The cluster the aggregators run in; it needs EC2 capacity. */
  readonly cluster: ecs.ICluster;
  /** The log types; each gets its own aggregator service. */
  readonly logTypes: LogTypeOptions[];
  /**
   * The log type whose aggregators also take tags that match no log type.
   * @default - the first of `logTypes`
   */
  readonly defaultLogType?: string;
  /**
   * Private DNS namespace the aggregators register in.
   * @default - a new namespace named `namespaceName` in the cluster's VPC
   */
  readonly dnsNamespace?: servicediscovery.IPrivateDnsNamespace;
  /**
   * Name of the new namespace; ignored when `dnsNamespace` is given.
   * @default 'logging.internal'
   */
  readonly namespaceName?: string;
  /**
   * Bucket of the S3 outputs that name none.
   * @default - a new bucket encrypted with `encryptionKey` (or a new key), versioned, that denies
   * non-TLS access, logs its access and publishes its events to EventBridge
   */
  readonly logBucket?: s3.IBucket;
  /**
   * Capacity provider strategy of the aggregator services.
   * @default - launch type EC2 (tasks then do not count toward managed scaling)
   */
  readonly capacityProviderStrategies?: ecs.CapacityProviderStrategy[];
  /**
   * Subnets of the aggregator tasks.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Key of the log groups this construct creates, and of the log bucket it creates.
   * @default - the log groups are encrypted with the AWS-owned key; a new log bucket gets a new key
   */
  readonly encryptionKey?: kms.IKey;
  /**
   * Retention of the aggregators' own logs and of new CloudWatch outputs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * Create the default alarms of every log type: its aggregators' buffer holds a quarter of its
   * disk budget for 5 minutes, or a chunk went to secondary_file or was held back by a full buffer.
   * They have no actions: add yours through `alarms`.
   * @default true
   */
  readonly createAlarms?: boolean;
  /**
   * Bucket the aggregators' secondary files (chunks that failed with an unrecoverable error) are
   * shipped to, under `secondary/aggregators/<log type>/<host>/<output>/`, every 5 minutes and
   * when a task stops. The forwarders of a `LogForwarder` use it too.
   * @default - `logBucket`, or the log bucket created for the S3 outputs; none when every output
   * is CloudWatch Logs and no `logBucket` is given: secondary files then stay on the host (synth warns)
   */
  readonly secondaryFileBucket?: s3.IBucket;
}

/** Where the forwarders send one log type. */
export interface LogAggregatorEndpoint {
  /** The log type. */
  readonly logType: string;
  /** DNS name with one A record per running aggregator task. */
  readonly hostname: string;
  /** The port the aggregators listen on. */
  readonly port: number;
}

/** What {@link LogAggregators} builds for one log type. */
export interface LogAggregator extends LogAggregatorEndpoint {
  /** The aggregator service. */
  readonly service: ecs.Ec2Service;
  /** The aggregator task definition. */
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** The generated fluentd configuration (may contain tokens). */
  readonly fluentdConfig: string;
  /** The security group of the aggregator tasks. */
  readonly securityGroup: ec2.ISecurityGroup;
}

/**
 * What a {@link LogForwarder} needs from the aggregators: where each log type goes, which type
 * takes the tags of no log type, and the network path (`connections`, on the aggregator port).
 * Implemented by {@link LogAggregators}, and by {@link LogAggregators.fromLogAggregatorsAttributes}
 * for aggregators that another stack (e.g. a central logging stack) owns.
 */
export interface ILogAggregators extends IConstruct, ec2.IConnectable {
  /** One endpoint per log type, in the order of the log types. */
  readonly endpoints: LogAggregatorEndpoint[];
  /** The log type whose aggregators also take tags that match no log type. */
  readonly defaultLogType: string;
}

/** Aggregators built elsewhere, for {@link LogAggregators.fromLogAggregatorsAttributes}. */
export interface LogAggregatorsAttributes {
  /** One endpoint per log type, e.g. from the owning stack's `LogAggregators.endpoints`. */
  readonly endpoints: LogAggregatorEndpoint[];
  /**
   * The log type that also takes tags of no log type.
   * @default - the first endpoint's log type
   */
  readonly defaultLogType?: string;
  /** The security groups of the aggregator tasks; forwarders are allowed in on each endpoint's port. */
  readonly securityGroups: ec2.ISecurityGroup[];
}

/**
 * One fluentd aggregator service per log type, so that no aggregator is a single point of
 * failure for every log: at least two tasks each, spread across AZs and instances, found by the
 * forwarders through Cloud Map DNS, buffering on disk; each delivers to S3 (write access to its
 * own prefix only) or to CloudWatch Logs, retrying forever. A full buffer (4 GiB) stops reading
 * (`overflow_action block`), so the forwarders keep the unacknowledged chunks; chunks that fail
 * with an unrecoverable error go to a `secondary_file` output, which a sidecar moves to
 * `secondaryFileBucket` every 5 minutes and when the task stops. Telemetry, metrics and default
 * alarms as for {@link LogForwarder}.
 */
export class LogAggregators extends Construct implements ILogAggregators {
  /** Port the aggregators listen on. */
  public static readonly PORT = AGGREGATOR_PORT;

  /** Aggregators another stack owns (no lookup: every value is given). */
  public static fromLogAggregatorsAttributes(scope: Construct, id: string, attrs: LogAggregatorsAttributes): ILogAggregators {
    return new ImportedLogAggregators(scope, id, attrs);
  }

  /** The namespace the aggregators register in. */
  public readonly dnsNamespace: servicediscovery.IPrivateDnsNamespace;
  /** The default log type (takes unmatched tags too). */
  public readonly defaultLogType: string;
  /** The shared log bucket, when an S3 output uses it. */
  public readonly logBucket?: s3.IBucket;
  /** Where secondary files of aggregators and forwarders are shipped to, when there is a bucket. */
  public readonly secondaryFileBucket?: s3.IBucket;
  /** The log group of the aggregators' own fluentd logs and telemetry. */
  public readonly diagnosticsLogGroup: logs.LogGroup;
  /** The aggregators' security groups, with the aggregator port as default port. */
  public readonly connections: ec2.Connections;
  /** The default alarms (empty when `createAlarms` is false); add your actions to them. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The value of the `Fleet` dimension of these aggregators' metrics. */
  public readonly telemetryFleet: string;

  private readonly byType = new Map<string, LogAggregator>();
  private readonly kindOf = new Map<string, LogOutputKind>();
  private readonly order: string[] = [];

  constructor(scope: Construct, id: string, props: LogAggregatorsProps) {
    super(scope, id);
    this.validate(props);
    this.defaultLogType = props.defaultLogType ?? props.logTypes[0].name;

    const vpc = props.cluster.vpc;
    this.dnsNamespace = props.dnsNamespace ?? this.newNamespace(vpc, props.namespaceName ?? 'logging.internal');
    const needsBucket = props.logTypes.some((t) => t.output.kind === LogOutputKind.S3 && !t.output.bucket);
    if (needsBucket) this.logBucket = props.logBucket ?? this.newLogBucket(props.encryptionKey);
    this.secondaryFileBucket = props.secondaryFileBucket ?? props.logBucket ?? this.logBucket;

    this.diagnosticsLogGroup = new logs.LogGroup(this, 'DiagnosticsLogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.encryptionKey,
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.telemetryFleet = Names.uniqueResourceName(this, { maxLength: 64 });
    addTelemetryFilters(this, this.diagnosticsLogGroup, this.telemetryFleet);
    const alarmScope = props.createAlarms === false ? undefined : new Construct(this, 'Alarms');

    for (const logType of props.logTypes) {
      const aggregator = this.addAggregator(logType, props);
      this.byType.set(logType.name, aggregator);
      this.order.push(logType.name);
      if (alarmScope) {
        this.alarms.push(...addRouteAlarms(alarmScope, {
          fleet: this.telemetryFleet, pluginId: this.pluginIdOf(logType.name), what: `the "${logType.name}" aggregators`, totalLimitMiB: AGGREGATOR_BUFFER_LIMIT_MIB,
        }));
      }
    }
    this.connections = new ec2.Connections({
      securityGroups: this.aggregators.map((a) => a.securityGroup),
      defaultPort: ec2.Port.tcp(AGGREGATOR_PORT),
    });
  }

  /** Where the forwarders send each log type. */
  public get endpoints(): LogAggregatorEndpoint[] {
    return this.aggregators.map(({ logType, hostname, port }) => ({ logType, hostname, port }));
  }

  /**
   * Chunks waiting in the file buffer of one log type's output, highest on any aggregator task
   * (fluentd monitor_agent `buffer_queue_length`), per minute.
   */
  public metricBufferQueueLength(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.BUFFER_QUEUE_LENGTH, props);
  }

  /** Bytes in the file buffer of one log type's output (staged and queued), highest on any aggregator task. */
  public metricBufferTotalQueuedSize(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.BUFFER_TOTAL_QUEUED_SIZE, props);
  }

  /** Failed flushes of one log type's output since its task started (cumulative), highest on any task. */
  public metricRetryCount(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.RETRY_COUNT, props);
  }

  /**
   * Chunks of one log type written to secondary_file instead of the destination, summed over tasks
   * (counted from fluentd's warnings: identical warnings within a minute count once).
   */
  public metricSecondaryFileWrites(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.SECONDARY_FILE_WRITES, props);
  }

  /** Minutes in which a full buffer of one log type held back its input (at most one per task per minute), summed. */
  public metricBufferOverflows(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.BUFFER_OVERFLOWS, props);
  }

  private pluginIdOf(logType: string): string {
    if (!this.kindOf.has(logType)) this.aggregatorFor(logType);
    return aggregatorPluginId(logType, this.kindOf.get(logType) === LogOutputKind.S3 ? 's3' : 'cloudwatch');
  }

  /** The log types, in the order given. */
  public get logTypes(): string[] {
    return [...this.order];
  }

  /** Every aggregator, in the order of the log types. */
  public get aggregators(): LogAggregator[] {
    return this.order.map((t) => this.byType.get(t)!);
  }

  /** The aggregator of one log type. */
  public aggregatorFor(logType: string): LogAggregator {
    const aggregator = this.byType.get(logType);
    if (!aggregator) {
      invalidProp(this, 'logType', logType, `is not one of the log types (${this.order.join(', ')})`, 'Add it to logTypes or use one of those.');
    }
    return aggregator;
  }

  /**
   * Lets forwarders on the given hosts reach every aggregator.
   * @deprecated use `connections.allowDefaultPortFrom(hosts)`; a LogForwarder does this itself.
   */
  public allowForwardersFrom(hosts: ec2.IConnectable): void {
    allowForwarders(this.connections, hosts);
  }

  private validate(props: LogAggregatorsProps): void {
    if (props.logTypes.length === 0) {
      invalidProp(this, 'logTypes', [], 'is empty', 'List at least one log type, e.g. { name: "rails", output: LogOutput.toS3() }.');
    }
    props.logTypes.forEach((t, i) => validateLogType(this, `logTypes[${i}].name`, t.name));
    const duplicates = duplicatesOf(props.logTypes.map((t) => t.name));
    if (duplicates.length > 0) {
      invalidProp(this, 'logTypes[].name', duplicates, 'occur more than once', 'Give every log type its own name: each gets its own aggregator service.');
    }
    if (props.defaultLogType !== undefined && !props.logTypes.some((t) => t.name === props.defaultLogType)) {
      invalidProp(this, 'defaultLogType', props.defaultLogType, `is not one of the log types (${props.logTypes.map((t) => t.name).join(', ')})`, 'Name one of logTypes, or leave it unset to use the first.');
    }
    props.logTypes.forEach((t, i) => {
      requireIntegerInRange(this, `logTypes[${i}].aggregatorCount`, t.aggregatorCount, 1, 100);
      if ((t.aggregatorCount ?? 2) < 2 && !t.allowSingleAggregator) {
        invalidProp(this, `logTypes[${i}].aggregatorCount`, t.aggregatorCount, `must be at least 2 so that one failed aggregator does not stop the "${t.name}" logs`,
          'Raise it to 2 or more, or set allowSingleAggregator: true to accept that risk.');
      }
      requireIntegerInRange(this, `logTypes[${i}].memoryLimitMiB`, t.memoryLimitMiB, MIN_AGGREGATOR_MEMORY_MIB, 30720);
      requireIntegerInRange(this, `logTypes[${i}].cpu`, t.cpu, 128, 10240);
      if (t.output.prefix !== undefined && !/^([A-Za-z0-9_.-]+\/)+$/.test(t.output.prefix)) {
        invalidProp(this, `logTypes[${i}].output.prefix`, t.output.prefix, 'must be one or more path segments each ending in "/"', 'Use a prefix like "logs/rails/".');
      }
    });
    props.logTypes.forEach((t, i) => {
      if (t.output.prefix?.startsWith(SECONDARY_KEY_ROOT)) {
        invalidProp(this, `logTypes[${i}].output.prefix`, t.output.prefix, `starts with "${SECONDARY_KEY_ROOT}", where the secondary files of the logging tier are shipped`,
          'Use another prefix, like "logs/<log type>/".');
      }
    });
    const prefixes = props.logTypes.filter((t) => t.output.kind === LogOutputKind.S3 && !t.output.bucket).map((t) => t.output.prefix ?? `logs/${t.name}/`);
    for (const a of prefixes) {
      const overlapping = prefixes.find((b) => b !== a && b.startsWith(a));
      if (overlapping) {
        invalidProp(this, 'logTypes[].output.prefix', [a, overlapping], 'overlap in the same bucket, so one log type\'s aggregators could overwrite the other\'s objects', 'Give each log type a prefix that is not inside another.');
      }
    }
  }

  /** Retained on delete: forwarders of other stacks resolve the aggregators in it (docs/design.md). */
  private newNamespace(vpc: ec2.IVpc, name: string): servicediscovery.PrivateDnsNamespace {
    const namespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', { vpc, name, description: 'fluentd aggregators, one service per log type' });
    namespace.applyRemovalPolicy(RemovalPolicy.RETAIN);
    return namespace;
  }

  private newLogBucket(encryptionKey: kms.IKey | undefined): s3.Bucket {
    const accessLogs = new s3.Bucket(this, 'AccessLogBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      ...versionedLogBucketProps([{ expiration: Duration.days(365) }]),
    });
    publishEventsToEventBridge(accessLogs);
    acknowledgeLogBucket(accessLogs, 'the server access logs of the log bucket');
    Validations.of(accessLogs).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket receives the server access logs of the log bucket; logging its own access would recurse without adding an audit trail.',
    });
    const logBucket = new s3.Bucket(this, 'LogBucket', {
      // fluent-plugin-s3 and the secondary-file shippers write with their task roles, which get
      // this key's encrypt grants (CT.S3.PR.10); S3 Bucket Keys keep the KMS requests few.
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: encryptionKey ?? newKey(this, 'LogBucketKey', {
        description: `Encrypts the log bucket of ${this.node.path}`,
        removalPolicy: RemovalPolicy.RETAIN,
      }),
      bucketKeyEnabled: true,
      enforceSSL: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'log-bucket/',
      removalPolicy: RemovalPolicy.RETAIN,
      // Logs are read rarely after the first weeks: the cheaper class keeps the cost case.
      ...versionedLogBucketProps([{ transitions: [{ storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) }] }]),
    });
    publishEventsToEventBridge(logBucket);
    acknowledgeObjectLock(logBucket, 'logBucket');
    return logBucket;
  }

  private addAggregator(options: LogTypeOptions, props: LogAggregatorsProps): LogAggregator {
    const logType = options.name;
    const scope = new Construct(this, idOf(logType));
    const label = dnsLabelOf(logType);
    const hostname = `${label}.${this.dnsNamespace.namespaceName}`;
    const region = Aws.REGION;

    const taskDefinition = new ecs.Ec2TaskDefinition(scope, 'TaskDefinition', {
      networkMode: ecs.NetworkMode.AWS_VPC,
    });
    const buffer: BufferConfig = {
      rootPath: FLUENTD_BUFFER_PATH,
      failedPath: FLUENTD_FAILED_PATH,
      flushIntervalSeconds: 10,
      retryMaxIntervalSeconds: 60,
      totalLimitMiB: AGGREGATOR_BUFFER_LIMIT_MIB,
      // An aggregator serves one log type: when S3 or CloudWatch has been down long enough to fill
      // its buffer, it stops reading, so the forwarders get no acknowledgement and keep the chunks
      // in their own per-type buffers. Nothing is dropped here.
      overflowAction: OverflowAction.BLOCK,
    };
    const telemetry = { fleet: this.telemetryFleet, monitorPort: MONITOR_PORT, emitIntervalSeconds: TELEMETRY_INTERVAL_SECONDS };
    this.kindOf.set(logType, options.output.kind);

    let config: AggregatorConfig;
    if (options.output.kind === LogOutputKind.S3) {
      const bucket = options.output.bucket ?? this.logBucket!;
      const prefix = options.output.prefix ?? `logs/${logType}/`;
      config = { logType, listenPort: AGGREGATOR_PORT, buffer, telemetry, s3: { bucketName: bucket.bucketName, region, prefix, timeSliceSeconds: 300 } };
      taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${prefix}*`)],
      }));
      // fluent-plugin-s3 writes each chunk with one PutObject: a data key is all it needs.
      bucket.encryptionKey?.grant(taskDefinition.taskRole, 'kms:GenerateDataKey');
    } else {
      const logGroup = options.output.logGroup ?? new logs.LogGroup(scope, 'OutputLogGroup', {
        retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
        encryptionKey: props.encryptionKey,
        removalPolicy: RemovalPolicy.RETAIN,
      });
      config = { logType, listenPort: AGGREGATOR_PORT, buffer, telemetry, cloudWatch: { logGroupName: logGroup.logGroupName, region } };
      taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['logs:CreateLogStream', 'logs:PutLogEvents', 'logs:DescribeLogStreams'],
        resources: [logGroup.logGroupArn, `${logGroup.logGroupArn}:log-stream:*`],
      }));
    }
    const fluentdConfig = renderAggregatorConfig(config);
    const image = options.image ?? (options.output.kind === LogOutputKind.S3 ? FluentdImage.S3_V1_17 : FluentdImage.CLOUDWATCH_V1_17);

    // The buffer lives on the host so that a replaced task on the same instance resumes its chunks;
    // the distinct-instance constraint below keeps two tasks of one log type off the same folder.
    const hostPath = `/var/lib/fluentd/aggregator-${label}`;
    const fluentd = fluentdContainerParts(taskDefinition, {
      image,
      config: fluentdConfig,
      hostPath,
      memoryLimitMiB: options.memoryLimitMiB ?? 512,
      logGroup: this.diagnosticsLogGroup,
      streamPrefix: `aggregator-${label}`,
      portMappings: [{ containerPort: AGGREGATOR_PORT, protocol: ecs.Protocol.TCP }],
      cpu: options.cpu ?? 256,
    });
    addSecondaryFileShipper(scope, taskDefinition, fluentd, {
      bucket: this.secondaryFileBucket,
      keyPrefix: `${SECONDARY_KEY_ROOT}aggregators/${logType}/`,
      logGroup: this.diagnosticsLogGroup,
      streamPrefix: `aggregator-${label}-shipper`,
      what: `The "${logType}" aggregators`,
    });

    const securityGroup = new ec2.SecurityGroup(scope, 'SecurityGroup', {
      vpc: props.cluster.vpc,
      description: `fluentd aggregators of the ${logType} logs`,
      allowAllOutbound: true,
    });
    const service = new ecs.Ec2Service(scope, 'Service', {
      cluster: props.cluster,
      taskDefinition,
      desiredCount: options.aggregatorCount ?? 2,
      securityGroups: [securityGroup],
      vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      capacityProviderStrategies: props.capacityProviderStrategies,
      placementStrategies: [ecs.PlacementStrategy.spreadAcross(ecs.BuiltInAttributes.AVAILABILITY_ZONE)],
      placementConstraints: [ecs.PlacementConstraint.distinctInstances()],
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 50,
      maxHealthyPercent: 200,
      cloudMapOptions: {
        name: label,
        cloudMapNamespace: this.dnsNamespace,
        dnsRecordType: servicediscovery.DnsRecordType.A,
        // Short TTL: forwarders notice a replaced aggregator within seconds.
        dnsTtl: Duration.seconds(10),
      },
    });
    acknowledgeWildcards(taskDefinition.taskRole, [
      { finding: /^Resource::.*\/\*$/, actions: /^s3:PutObject$/, reason: 'The aggregators and their secondary-file shipper write objects with generated names, so the grants cover every key under this log type\'s own output prefix and its own secondary-file prefix, nothing else in the bucket.' },
      { finding: /^Resource::.*:log-stream:\*$/, actions: /^logs:(CreateLogStream|PutLogEvents|DescribeLogStreams)$/, reason: 'fluent-plugin-cloudwatch-logs creates one stream per tag at run time, inside this log type\'s own log group only.' },
    ]);
    return { logType, hostname, port: AGGREGATOR_PORT, service, taskDefinition, fluentdConfig, securityGroup };
  }
}

class ImportedLogAggregators extends Construct implements ILogAggregators {
  public readonly endpoints: LogAggregatorEndpoint[];
  public readonly defaultLogType: string;
  public readonly connections: ec2.Connections;

  constructor(scope: Construct, id: string, attrs: LogAggregatorsAttributes) {
    super(scope, id);
    if (attrs.endpoints.length === 0) {
      invalidProp(this, 'endpoints', [], 'is empty', 'List one endpoint per log type, e.g. from the owning stack\'s LogAggregators.endpoints.');
    }
    attrs.endpoints.forEach((e, i) => {
      validateLogType(this, `endpoints[${i}].logType`, e.logType);
      requirePort(this, `endpoints[${i}].port`, e.port);
    });
    const duplicates = duplicatesOf(attrs.endpoints.map((e) => e.logType));
    if (duplicates.length > 0) {
      invalidProp(this, 'endpoints[].logType', duplicates, 'occur more than once', 'Give each log type one endpoint.');
    }
    if (attrs.securityGroups.length === 0) {
      invalidProp(this, 'securityGroups', [], 'is empty', 'Pass the aggregator tasks\' security groups so that forwarders can be allowed in.');
    }
    const ports = [...new Set(attrs.endpoints.map((e) => e.port))];
    if (ports.length > 1) {
      invalidProp(this, 'endpoints[].port', ports, 'differ', 'Use one port for every log type\'s aggregators, as LogAggregators does.');
    }
    this.endpoints = attrs.endpoints.map(({ logType, hostname, port }) => ({ logType, hostname, port }));
    this.defaultLogType = attrs.defaultLogType ?? attrs.endpoints[0].logType;
    if (!attrs.endpoints.some((e) => e.logType === this.defaultLogType)) {
      invalidProp(this, 'defaultLogType', this.defaultLogType, `is not one of the endpoints' log types (${attrs.endpoints.map((e) => e.logType).join(', ')})`, 'Name one of them, or leave it unset to use the first.');
    }
    this.connections = new ec2.Connections({ securityGroups: attrs.securityGroups, defaultPort: ec2.Port.tcp(ports[0]) });
  }
}
