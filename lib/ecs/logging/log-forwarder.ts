import { Names, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FluentdImage } from './fluentd-image';
import { ILogAggregators, LogAggregators } from './log-aggregators';
import { FORWARDER_PORT, MIN_FORWARDER_MEMORY_MIB, MONITOR_PORT, TELEMETRY_INTERVAL_SECONDS } from './private/constants';
import { FLUENTD_BUFFER_PATH, FLUENTD_FAILED_PATH, fluentdContainerParts } from './private/fluentd-container';
import { allowForwarders } from './private/network';
import { forwarderPluginId, OverflowAction, renderForwarderConfig, UNMATCHED_ROUTE } from './private/fluentd-config';
import { addSecondaryFileShipper, SECONDARY_KEY_ROOT } from './private/secondary-shipper';
import { addRouteAlarms, addTelemetryFilters, FluentdMetricName, fluentdMetric } from './private/telemetry';
import { acknowledgeControl } from '../../private/guard';
import { acknowledgeWildcards } from '../../private/nag';
import { invalidProp, requireIntegerInRange } from '../../private/validation';

/** Disk budget of each of the forwarder's per-type file buffers, on every host. */
const FORWARDER_BUFFER_LIMIT_MIB = 2048;

export interface LogForwarderProps {
  /** The cluster whose every container instance gets a forwarder. */
  readonly cluster: ecs.ICluster;
  /**
   * The aggregators the forwarders send each log type to: a `LogAggregators`, or
   * `LogAggregators.fromLogAggregatorsAttributes()` for those of another stack.
   */
  readonly aggregators: ILogAggregators;
  /**
   * Memory of each forwarder, reserved on every container instance.
   * @default 256
   */
  readonly memoryLimitMiB?: number;
  /**
   * CPU units of each forwarder.
   * @default 128
   */
  readonly cpu?: number;
  /**
   * The fluentd image.
   * @default FluentdImage.FORWARDER_V1_17
   */
  readonly image?: FluentdImage;
  /**
   * The hosts the forwarders run on, allowed to reach the aggregators.
   * @default - the cluster's connections (its capacity's security groups)
   */
  readonly hosts?: ec2.IConnectable;
  /**
   * Log group of the forwarders' own fluentd logs and telemetry.
   * @default - a new log group with one year of retention
   */
  readonly diagnosticsLogGroup?: logs.ILogGroup;
  /**
   * Create the default alarms of every log type's output (and of the output for tags of no log
   * type): its buffer holds a quarter of its disk budget on some host for 5 minutes, or a chunk
   * went to secondary_file or records were refused by a full buffer. They have no actions: add
   * yours through `alarms`.
   * @default true
   */
  readonly createAlarms?: boolean;
  /**
   * Bucket the forwarders' secondary files are shipped to, under
   * `secondary/forwarders/<telemetryFleet>/<host>/<output>/`, every 5 minutes and when a forwarder stops.
   * @default - the aggregators' `secondaryFileBucket` when they are a `LogAggregators` of this app;
   * otherwise none: secondary files stay on the host (synth warns)
   */
  readonly secondaryFileBucket?: s3.IBucket;
}

/**
 * A fluentd forwarder on every container instance of a cluster (an ECS DAEMON service in host
 * network mode, listening on the loopback address for Docker's `fluentd` log driver). It buffers
 * on the host's disk and sends each log type to that type's aggregators; tags of no known log
 * type go to the default log type's aggregators.
 *
 * Failure behaviour (fluentd 1.17):
 * - Forwarder down on a host: application containers keep starting and running (their driver is
 *   asynchronous, see {@link ForwarderLogging}); Docker queues each container's lines in memory up
 *   to the driver's buffer limit and drops beyond it; ECS restarts the daemon task, which resumes
 *   the chunks left in its host-disk buffer.
 * - An aggregator name without DNS answer (first deploy, every task of a type down): fluentd still
 *   starts (`ignore_network_errors_at_startup`) and the other types flow; names are re-resolved
 *   every 10 s and one A record is picked at random per connection.
 * - All aggregators of one log type down: only that type's output retries (forever, at most 30 s
 *   apart) and grows its own file buffer (2 GiB per type per host); when full, that type's new
 *   records are refused with a warning (`throw_exception`), counted as `BufferOverflows`. The
 *   *BufferFilling* alarm fires at a quarter of the buffer. Other log types flow as before.
 * - Delivery to the aggregators is at least once (`require_ack_response`): a chunk is sent again
 *   when its acknowledgement does not come within 60 s, so duplicates are possible.
 * - Only chunks that fail with an unrecoverable error go to the host's `secondary_file` folder,
 *   counted as `SecondaryFileWrites` and alarmed at once. A sidecar moves them to
 *   `secondaryFileBucket` every 5 minutes and when the task stops, so a terminated instance does
 *   not take them along.
 * - fluentd's own `fluent.*` events go to the diagnostics log group only (`<label @FLUENT_LOG>`).
 */
export class LogForwarder extends Construct implements ec2.IConnectable {
  /** Port the forwarder listens on, on the loopback address of every host. */
  public static readonly PORT = FORWARDER_PORT;
  /** The smallest `memoryLimitMiB` accepted. */
  public static readonly MIN_MEMORY_MIB = MIN_FORWARDER_MEMORY_MIB;
  /** The name of the output for tags of no log type, for the `metricXxx()` methods. */
  public static readonly UNMATCHED_ROUTE = UNMATCHED_ROUTE;

  /** The daemon service. */
  public readonly service: ecs.Ec2Service;
  /** The task definition of the forwarder. */
  public readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** The generated fluentd configuration (may contain tokens). */
  public readonly fluentdConfig: string;
  /** The hosts' connections: the forwarder runs in host network mode, so it is the hosts on the network. */
  public readonly connections: ec2.Connections;
  /** The log group of the forwarders' own fluentd logs and telemetry. */
  public readonly diagnosticsLogGroup: logs.ILogGroup;
  /** The default alarms (empty when `createAlarms` is false); add your actions to them. */
  public readonly alarms: cloudwatch.Alarm[] = [];
  /** The value of the `Fleet` dimension of this forwarder's metrics. */
  public readonly telemetryFleet: string;
  /** Where secondary files are shipped to, when there is a bucket. */
  public readonly secondaryFileBucket?: s3.IBucket;
  /** Key prefix of the shipped secondary files (ends in "/"). */
  public readonly secondaryFilePrefix: string;

  private readonly routes: string[];

  constructor(scope: Construct, id: string, props: LogForwarderProps) {
    super(scope, id);
    if (props.memoryLimitMiB !== undefined && props.memoryLimitMiB < MIN_FORWARDER_MEMORY_MIB) {
      invalidProp(this, 'memoryLimitMiB', props.memoryLimitMiB, `is too small for a fluentd forwarder (at least ${MIN_FORWARDER_MEMORY_MIB} MiB)`,
        `Set memoryLimitMiB to ${MIN_FORWARDER_MEMORY_MIB} or more; it is reserved on every instance, so size it to the host's log rate.`);
    }
    requireIntegerInRange(this, 'memoryLimitMiB', props.memoryLimitMiB, MIN_FORWARDER_MEMORY_MIB, 4096);
    requireIntegerInRange(this, 'cpu', props.cpu, 0, 4096);

    this.telemetryFleet = Names.uniqueResourceName(this, { maxLength: 64 });
    const endpoints = props.aggregators.endpoints;
    this.routes = [...endpoints.map((e) => e.logType), UNMATCHED_ROUTE];
    this.fluentdConfig = renderForwarderConfig({
      listenPort: FORWARDER_PORT,
      // Host networking plus loopback: the Docker daemon reaches it, nothing else on the network does.
      bindAddress: '127.0.0.1',
      routes: endpoints.map((a) => ({ logType: a.logType, host: a.hostname, port: a.port })),
      defaultLogType: props.aggregators.defaultLogType,
      buffer: {
        rootPath: FLUENTD_BUFFER_PATH,
        failedPath: FLUENTD_FAILED_PATH,
        flushIntervalSeconds: 5,
        retryMaxIntervalSeconds: 30,
        totalLimitMiB: FORWARDER_BUFFER_LIMIT_MIB,
        // All log types share one in_forward input: blocking it for one full type would stop every
        // type on the host. A full type's buffer refuses that type's new records only, with a
        // warning that becomes the BufferOverflows metric; the applications never block.
        overflowAction: OverflowAction.THROW_EXCEPTION,
      },
      // Longer than an aggregator flush to S3 or CloudWatch usually takes; a chunk not acknowledged
      // in time is sent again (a possible duplicate, never a loss).
      ackTimeoutSeconds: 60,
      telemetry: { fleet: this.telemetryFleet, monitorPort: MONITOR_PORT, emitIntervalSeconds: TELEMETRY_INTERVAL_SECONDS },
    });

    this.diagnosticsLogGroup = props.diagnosticsLogGroup ?? new logs.LogGroup(this, 'DiagnosticsLogGroup', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', { networkMode: ecs.NetworkMode.HOST });
    acknowledgeControl(this.taskDefinition, 'ecs_awsvpc_networking_enabled_check',
      'The per-host forwarder must listen on the host\'s own loopback address: the Docker fluentd log driver of every task on the ' +
      'instance connects to 127.0.0.1:24224 from the Docker daemon, which only host network mode offers (an awsvpc task has its own ENI address).');
    acknowledgeControl(this.taskDefinition, 'ecs_task_definition_user_for_host_mode_check',
      'fluentd itself runs as the image\'s non-root user and is not privileged; the root containers are the init container that chowns ' +
      'the host buffer folder and the secondary-file shipper (only DAC_OVERRIDE), both without listening ports.');
    const fluentd = fluentdContainerParts(this.taskDefinition, {
      image: props.image ?? FluentdImage.FORWARDER_V1_17,
      config: this.fluentdConfig,
      hostPath: '/var/lib/fluentd/forwarder',
      memoryLimitMiB: props.memoryLimitMiB ?? 256,
      cpu: props.cpu ?? 128,
      logGroup: this.diagnosticsLogGroup,
      streamPrefix: 'forwarder',
      portMappings: [{ containerPort: FORWARDER_PORT, hostPort: FORWARDER_PORT, protocol: ecs.Protocol.TCP }],
    });
    this.secondaryFileBucket = props.secondaryFileBucket
      ?? (props.aggregators instanceof LogAggregators ? props.aggregators.secondaryFileBucket : undefined);
    this.secondaryFilePrefix = `${SECONDARY_KEY_ROOT}forwarders/${this.telemetryFleet}/`;
    addSecondaryFileShipper(this, this.taskDefinition, fluentd, {
      bucket: this.secondaryFileBucket,
      keyPrefix: this.secondaryFilePrefix,
      logGroup: this.diagnosticsLogGroup,
      streamPrefix: 'forwarder-shipper',
      what: 'The forwarders',
    });
    acknowledgeWildcards(this.taskDefinition.taskRole, [
      { finding: /^Resource::.*\/\*$/, actions: /^s3:PutObject$/, reason: 'Secondary files get generated names (host, output, time), so the grant covers every key under this forwarder fleet\'s own secondary-file prefix and nothing else in the bucket.' },
    ]);

    this.service = new ecs.Ec2Service(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      daemon: true,
      circuitBreaker: { enable: true, rollback: true },
      // Host networking pins the port: each instance's old forwarder stops before its new one
      // starts, so replace at most half of them at a time.
      minHealthyPercent: 50,
      maxHealthyPercent: 100,
    });
    const hosts = props.hosts ?? props.cluster;
    this.connections = hosts.connections;
    allowForwarders(props.aggregators.connections, hosts);

    addTelemetryFilters(this, this.diagnosticsLogGroup, this.telemetryFleet);
    if (props.createAlarms !== false) {
      const alarmScope = new Construct(this, 'Alarms');
      for (const route of this.routes) {
        const what = route === UNMATCHED_ROUTE ? 'the forwarders\' output for tags of no log type' : `the forwarders' "${route}" output`;
        this.alarms.push(...addRouteAlarms(alarmScope, { fleet: this.telemetryFleet, pluginId: forwarderPluginId(route), what, totalLimitMiB: FORWARDER_BUFFER_LIMIT_MIB }));
      }
    }
  }

  /**
   * Chunks waiting in one log type's file buffer, highest on any host (fluentd monitor_agent
   * `buffer_queue_length`), per minute.
   * @param logType a log type, or `LogForwarder.UNMATCHED_ROUTE`
   */
  public metricBufferQueueLength(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.BUFFER_QUEUE_LENGTH, props);
  }

  /**
   * Bytes in one log type's file buffer (staged and queued), highest on any host.
   * @param logType a log type, or `LogForwarder.UNMATCHED_ROUTE`
   */
  public metricBufferTotalQueuedSize(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.BUFFER_TOTAL_QUEUED_SIZE, props);
  }

  /**
   * Failed flushes of one log type's output since the forwarder started (cumulative), highest on any host.
   * @param logType a log type, or `LogForwarder.UNMATCHED_ROUTE`
   */
  public metricRetryCount(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.RETRY_COUNT, props);
  }

  /**
   * Chunks of one log type written to a host's secondary_file instead of the aggregators, summed over hosts
   * (counted from fluentd's warnings: identical warnings within a minute count once).
   * @param logType a log type, or `LogForwarder.UNMATCHED_ROUTE`
   */
  public metricSecondaryFileWrites(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.SECONDARY_FILE_WRITES, props);
  }

  /**
   * Minutes in which one log type's full buffer refused records (at most one per host per minute), summed over hosts.
   * @param logType a log type, or `LogForwarder.UNMATCHED_ROUTE`
   */
  public metricBufferOverflows(logType: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return fluentdMetric(this.telemetryFleet, this.pluginIdOf(logType), FluentdMetricName.BUFFER_OVERFLOWS, props);
  }

  private pluginIdOf(logType: string): string {
    if (!this.routes.includes(logType)) {
      invalidProp(this, 'logType', logType, `is not one of the forwarder's outputs (${this.routes.join(', ')})`, 'Name a log type of the aggregators, or LogForwarder.UNMATCHED_ROUTE.');
    }
    return forwarderPluginId(logType);
  }
}
