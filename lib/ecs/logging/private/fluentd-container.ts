import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { FluentdImage } from '../fluentd-image';
import { fluentdCommand } from './fluentd-config';
import { acknowledgeControl } from '../../../private/guard';

/** The environment variable that carries the generated configuration into the container. */
export const FLUENTD_CONFIG_ENV = 'FLUENTD_GENERATED_CONFIG';
/**
 * Where the container command writes it: in /tmp, the one writable path of the read-only root
 * filesystem besides the buffers (a task volume the init container opens to every user).
 */
export const FLUENTD_CONFIG_PATH = '/tmp/fluentd-generated.conf';
/** fluentd's scratch space: the configuration file, and Ruby's Tempfile (fluent-plugin-s3 compresses chunks there). */
export const FLUENTD_TMP_PATH = '/tmp';
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

/** Hard limit of the init container: a shell running mkdir, chown and chmod. */
const INIT_MEMORY_LIMIT_MIB = 64;

/**
 * Adds a fluentd container that writes its generated configuration from an environment variable
 * and runs as the image's non-root user on a read-only root filesystem, plus a short-lived init
 * container that hands the host buffer folder (created by Docker as root) to that user and opens
 * the task's /tmp volume to it.
 */
export function fluentdContainerParts(taskDefinition: ecs.TaskDefinition, options: FluentdContainerOptions): ecs.ContainerDefinition {
  taskDefinition.addVolume({ name: 'buffer', host: { sourcePath: options.hostPath } });
  // Emptied with the task: only the configuration file and Tempfiles live here.
  taskDefinition.addVolume({ name: 'fluentd-tmp' });
  const image = options.image.toContainerImage();
  const logging = ecs.LogDrivers.awsLogs({ logGroup: options.logGroup, streamPrefix: options.streamPrefix, mode: ecs.AwsLogDriverMode.NON_BLOCKING });

  const init = taskDefinition.addContainer('BufferOwner', {
    image,
    essential: false,
    memoryReservationMiB: 32,
    memoryLimitMiB: INIT_MEMORY_LIMIT_MIB,
    user: '0',
    readonlyRootFilesystem: true,
    entryPoint: ['sh', '-c'],
    command: [`mkdir -p ${FLUENTD_FAILED_PATH} && chown -R ${FLUENTD_USER}:${FLUENTD_USER} ${FLUENTD_BUFFER_PATH} && chmod 1777 ${FLUENTD_TMP_PATH}`],
    logging,
  });
  init.addMountPoints(
    { containerPath: FLUENTD_BUFFER_PATH, sourceVolume: 'buffer', readOnly: false },
    { containerPath: FLUENTD_TMP_PATH, sourceVolume: 'fluentd-tmp', readOnly: false },
  );

  const fluentd = taskDefinition.addContainer('Fluentd', {
    image,
    essential: true,
    memoryLimitMiB: options.memoryLimitMiB,
    cpu: options.cpu,
    user: FLUENTD_USER,
    // fluentd writes only its buffers, secondary files (the buffer volume) and /tmp (a task volume).
    readonlyRootFilesystem: true,
    entryPoint: ['sh', '-c'],
    command: [fluentdCommand(FLUENTD_CONFIG_ENV, FLUENTD_CONFIG_PATH, options.image.fluentdArgs)],
    environment: { [FLUENTD_CONFIG_ENV]: reviewableText(options.config) },
    portMappings: options.portMappings,
    // fluentd flushes its buffers on SIGTERM (flush_at_shutdown): give it the time to do so.
    stopTimeout: Duration.seconds(120),
    logging,
  });
  fluentd.addMountPoints(
    { containerPath: FLUENTD_BUFFER_PATH, sourceVolume: 'buffer', readOnly: false },
    { containerPath: FLUENTD_TMP_PATH, sourceVolume: 'fluentd-tmp', readOnly: false },
  );
  fluentd.addContainerDependencies({ container: init, condition: ecs.ContainerDependencyCondition.SUCCESS });
  acknowledgeControl(taskDefinition, 'ecs_task_definition_nonroot_user_check',
    'fluentd runs as its image\'s non-root user; the only root containers are the init container (BufferOwner), which chowns the ' +
    'host buffer folder Docker creates as root, and the secondary-file shipper, which removes fluentd\'s files with only DAC_OVERRIDE; ' +
    'the fluent uid differs between fluentd images, so no fixed uid can own the folder ahead of time.');

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
