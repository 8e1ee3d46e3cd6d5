import { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FluentdImage } from './fluentd-image';
import { LogAggregators } from './log-aggregators';
import { FORWARDER_PORT } from './log-driver';
import { FLUENTD_BUFFER_PATH, FLUENTD_FAILED_PATH, fluentdContainerParts } from './private/fluentd-container';
import { renderForwarderConfig } from './private/fluentd-config';
import { invalidProp, requireIntegerInRange } from '../../private/validation';

/** Below this, fluentd's Ruby runtime plus the in-memory part of the buffers gets OOM-killed. */
export const MIN_FORWARDER_MEMORY_MIB = 128;

export interface LogForwarderProps {
  /** The cluster whose every container instance gets a forwarder. */
  readonly cluster: ecs.ICluster;
  /** The aggregators the forwarders send each log type to. */
  readonly aggregators: LogAggregators;
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
   * Log group of the forwarders' own fluentd logs.
   * @default - a new log group with one year of retention
   */
  readonly diagnosticsLogGroup?: logs.ILogGroup;
}

/**
 * A fluentd forwarder on every container instance of a cluster (an ECS DAEMON service in host
 * network mode, listening on the loopback address for Docker's `fluentd` log driver). It buffers
 * on the host's disk and sends each log type to that type's aggregators; tags of no known log
 * type go to the default log type's aggregators.
 *
 * Failure behaviour:
 * - Forwarder down on a host: application containers keep starting and running (their driver is
 *   asynchronous, see {@link ForwarderLogging}); each container's driver holds up to its buffer
 *   limit in memory and drops beyond it; ECS restarts the daemon task, which resumes the chunks
 *   left in its host-disk buffer.
 * - All aggregators of one log type down: only that type's output on every forwarder retries
 *   (exponential backoff, at most 30 s apart) and grows its own file buffer (2 GiB per type per
 *   host, then the oldest chunks are dropped); after an hour of failures the chunks go to the
 *   host's `secondary_file` folder for manual replay. Other log types flow as before.
 */
export class LogForwarder extends Construct {
  /** The daemon service. */
  public readonly service: ecs.Ec2Service;
  /** The task definition of the forwarder. */
  public readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** The generated fluentd configuration (may contain tokens). */
  public readonly fluentdConfig: string;

  constructor(scope: Construct, id: string, props: LogForwarderProps) {
    super(scope, id);
    if (props.memoryLimitMiB !== undefined && props.memoryLimitMiB < MIN_FORWARDER_MEMORY_MIB) {
      invalidProp(this, 'memoryLimitMiB', props.memoryLimitMiB, `is too small for a fluentd forwarder (at least ${MIN_FORWARDER_MEMORY_MIB} MiB)`,
        `Set memoryLimitMiB to ${MIN_FORWARDER_MEMORY_MIB} or more; it is reserved on every instance, so size it to the host's log rate.`);
    }
    requireIntegerInRange(this, 'memoryLimitMiB', props.memoryLimitMiB, MIN_FORWARDER_MEMORY_MIB, 4096);
    requireIntegerInRange(this, 'cpu', props.cpu, 0, 4096);

    this.fluentdConfig = renderForwarderConfig({
      listenPort: FORWARDER_PORT,
      // Host networking plus loopback: the Docker daemon reaches it, nothing else on the network does.
      bindAddress: '127.0.0.1',
      routes: props.aggregators.aggregators.map((a) => ({ logType: a.logType, host: a.hostname, port: a.port })),
      defaultLogType: props.aggregators.defaultLogType,
      buffer: {
        rootPath: FLUENTD_BUFFER_PATH,
        failedPath: FLUENTD_FAILED_PATH,
        flushIntervalSeconds: 5,
        retryMaxIntervalSeconds: 30,
        // An hour of retries rides out an aggregator replacement; then chunks go to secondary_file.
        retryTimeoutSeconds: 3600,
        totalLimitMiB: 2048,
      },
    });

    const logGroup = props.diagnosticsLogGroup ?? new logs.LogGroup(this, 'DiagnosticsLogGroup', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', { networkMode: ecs.NetworkMode.HOST });
    fluentdContainerParts(this.taskDefinition, {
      image: props.image ?? FluentdImage.FORWARDER_V1_17,
      config: this.fluentdConfig,
      hostPath: '/var/lib/fluentd/forwarder',
      memoryLimitMiB: props.memoryLimitMiB ?? 256,
      cpu: props.cpu ?? 128,
      logGroup,
      streamPrefix: 'forwarder',
      portMappings: [{ containerPort: FORWARDER_PORT, hostPort: FORWARDER_PORT, protocol: ecs.Protocol.TCP }],
    });

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
    props.aggregators.allowForwardersFrom(props.hosts ?? props.cluster);
  }
}
