import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { FluentdImage } from '../fluentd-image';
import { fluentdCommand } from './fluentd-config';

/** The environment variable that carries the generated configuration into the container. */
export const FLUENTD_CONFIG_ENV = 'FLUENTD_GENERATED_CONFIG';
/** Where the container command writes it: /tmp is writable for any user in every fluentd image. */
export const FLUENTD_CONFIG_PATH = '/tmp/fluentd-generated.conf';
export const FLUENTD_BUFFER_PATH = '/fluentd/buffer';
export const FLUENTD_FAILED_PATH = '/fluentd/buffer/failed';
/** The user the official fluentd images create. */
const FLUENTD_USER = 'fluent';

export interface FluentdContainerOptions {
  readonly image: FluentdImage;
  readonly config: string;
  /** Host folder of the file buffers: survives task replacement on the same instance. */
  readonly hostPath: string;
  readonly memoryLimitMiB: number;
  readonly cpu: number;
  readonly logGroup: logs.ILogGroup;
  readonly streamPrefix: string;
  readonly portMappings: ecs.PortMapping[];
}

/**
 * Adds a fluentd container that writes its generated configuration from an environment variable
 * and runs as the image's non-root user, plus a short-lived init container that hands the host
 * buffer folder (created by Docker as root) to that user.
 */
export function fluentdContainerParts(taskDefinition: ecs.TaskDefinition, options: FluentdContainerOptions): ecs.ContainerDefinition {
  taskDefinition.addVolume({ name: 'buffer', host: { sourcePath: options.hostPath } });
  const image = options.image.toContainerImage();
  const logging = ecs.LogDrivers.awsLogs({ logGroup: options.logGroup, streamPrefix: options.streamPrefix, mode: ecs.AwsLogDriverMode.NON_BLOCKING });

  const init = taskDefinition.addContainer('BufferOwner', {
    image,
    essential: false,
    memoryReservationMiB: 32,
    user: '0',
    entryPoint: ['sh', '-c'],
    command: [`mkdir -p ${FLUENTD_FAILED_PATH} && chown -R ${FLUENTD_USER}:${FLUENTD_USER} ${FLUENTD_BUFFER_PATH}`],
    logging,
  });
  init.addMountPoints({ containerPath: FLUENTD_BUFFER_PATH, sourceVolume: 'buffer', readOnly: false });

  const fluentd = taskDefinition.addContainer('Fluentd', {
    image,
    essential: true,
    memoryLimitMiB: options.memoryLimitMiB,
    cpu: options.cpu,
    user: FLUENTD_USER,
    entryPoint: ['sh', '-c'],
    command: [fluentdCommand(FLUENTD_CONFIG_ENV, FLUENTD_CONFIG_PATH, options.image.fluentdArgs)],
    environment: { [FLUENTD_CONFIG_ENV]: reviewableText(options.config) },
    portMappings: options.portMappings,
    // fluentd flushes its buffers on SIGTERM (flush_at_shutdown): give it the time to do so.
    stopTimeout: Duration.seconds(120),
    logging,
  });
  fluentd.addMountPoints({ containerPath: FLUENTD_BUFFER_PATH, sourceVolume: 'buffer', readOnly: false });
  fluentd.addContainerDependencies({ container: init, condition: ecs.ContainerDependencyCondition.SUCCESS });

  Validations.of(taskDefinition).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason: 'The only environment variable is the fluentd configuration generated at synth time (hosts, ports, buffer paths, bucket name); it holds no secret.',
  });
  return fluentd;
}

/**
 * A multi-line text as a CloudFormation `Fn::Join` of its lines, so that the template holds one
 * JSON string per line and a change to the configuration shows up in a template diff as the lines
 * that changed, not as one long line replaced. aws-cdk-lib folds `Fn.join` of literal strings into
 * one string, so the intrinsic is written as data; lines that hold tokens still resolve.
 */
export function reviewableText(text: string): string {
  const lines = text.split('\n');
  for (const line of lines) {
    // Tokens are encoded as ${Token[...]} in strings; any other ${ would be taken by CloudFormation
    // validation for one of its parameters (cfn-lint E1029), and an Fn::Sub around it for a useless one (W1020).
    if (line.replace(/\$\{Token\[[^\]]+\]\}/g, '').includes('${')) {
      throw new Error(`fluentd configuration line holds a \${} placeholder, which CloudFormation validation rejects: ${line}`);
    }
  }
  return Token.asString({ 'Fn::Join': ['\n', lines] });
}
