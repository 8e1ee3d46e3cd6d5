import { Annotations, Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { FluentdImage } from '../fluentd-image';
import { FLUENTD_BUFFER_PATH, FLUENTD_FAILED_PATH } from './fluentd-container';

/** Every key the shippers write starts with this; log outputs may not use it (see LogAggregators validation). */
export const SECONDARY_KEY_ROOT = 'secondary/';
/** Seconds between two shipping passes. */
export const SHIP_INTERVAL_SECONDS = 300;
/** A file younger than this may still be written by secondary_file; the SIGTERM pass ships it anyway. */
export const SHIP_MIN_AGE_SECONDS = 60;
const SCRATCH_PATH = '/tmp';

/**
 * The sidecar's loop, POSIX sh with coreutils only (the AWS CLI image is Amazon Linux without
 * `find`). It moves each file under `$SOURCE_DIR/<output>/` to
 * `$DESTINATION<host>/<output>/<UTC time>-<file name>`: `aws s3 mv` removes the local file only
 * after the upload succeeded, so a failed upload keeps the file for the next pass. The time in the
 * key keeps a later `dump.bin.0` of the same host from overwriting an earlier one.
 */
export const SHIPPER_SCRIPT = [
  'set -u',
  'host=$(uname -n)',
  'ship() {',
  '  min_age=$1',
  '  now=$(date +%s)',
  '  for file in "$SOURCE_DIR"/*/*; do',
  '    [ -f "$file" ] || continue',
  '    modified=$(stat -c %Y "$file") || continue',
  '    [ $((now - modified)) -ge "$min_age" ] || continue',
  '    output=$(basename "$(dirname "$file")")',
  '    key="$DESTINATION$host/$output/$(date -u +%Y%m%dT%H%M%SZ)-$(basename "$file")"',
  '    if aws s3 mv --only-show-errors "$file" "$key"; then',
  '      echo "secondary file shipped: $file to $key"',
  '    else',
  '      echo "secondary file NOT shipped, kept for the next pass: $file" >&2',
  '    fi',
  '  done',
  '}',
  // fluentd stops first (it depends on this container), so this last pass sees its final writes.
  'trap \'ship 0; exit 0\' TERM',
  'while :; do',
  '  ship "$MIN_AGE_SECONDS"',
  // sleep in the background: a trap runs only between commands, and wait returns at once on SIGTERM.
  '  sleep "$INTERVAL_SECONDS" & wait $!',
  'done',
].join('\n');

export interface SecondaryShipperOptions {
  /** The bucket, or undefined when there is none: then the files stay on the host and synth warns. */
  readonly bucket?: s3.IBucket;
  /** Key prefix of this task definition's files, ending in "/", under SECONDARY_KEY_ROOT. */
  readonly keyPrefix: string;
  readonly logGroup: logs.ILogGroup;
  readonly streamPrefix: string;
  /** What the warning calls the fluentd processes, e.g. 'the forwarders'. */
  readonly what: string;
}

/**
 * Adds the sidecar that moves the fluentd container's secondary files from the host folder to S3,
 * every 5 minutes and once more when the task stops, so that a terminated instance does not take
 * them along. It is not essential: when it fails, fluentd and the applications run on and the
 * files wait on the host.
 */
export function addSecondaryFileShipper(scope: Construct, taskDefinition: ecs.TaskDefinition, fluentd: ecs.ContainerDefinition,
  options: SecondaryShipperOptions): ecs.ContainerDefinition | undefined {
  if (!options.bucket) {
    Annotations.of(scope).addWarningV2('cdk-container-patterns:secondary-files-stay-on-host',
      `${options.what} have no bucket for their secondary files, so those stay on the host and are lost with a terminated instance. ` +
      'Set secondaryFileBucket (or logBucket) to ship them to S3.');
    return undefined;
  }
  taskDefinition.addVolume({ name: 'shipper-scratch' });
  const shipper = taskDefinition.addContainer('SecondaryFileShipper', {
    image: ecs.ContainerImage.fromRegistry(FluentdImage.SECONDARY_FILE_SHIPPER_IMAGE),
    essential: false,
    memoryReservationMiB: 64,
    memoryLimitMiB: 192,
    cpu: 16,
    // Root only to remove fluentd's files from fluentd's folders (owned by the image's fluent user,
    // whose numeric id differs between fluentd images): every capability but DAC_OVERRIDE is dropped.
    user: '0',
    readonlyRootFilesystem: true,
    linuxParameters: new ecs.LinuxParameters(scope, 'SecondaryFileShipperLinux'),
    entryPoint: ['sh', '-c'],
    command: [SHIPPER_SCRIPT],
    environment: {
      SOURCE_DIR: FLUENTD_FAILED_PATH,
      DESTINATION: options.bucket.s3UrlForObject(options.keyPrefix),
      INTERVAL_SECONDS: String(SHIP_INTERVAL_SECONDS),
      MIN_AGE_SECONDS: String(SHIP_MIN_AGE_SECONDS),
      HOME: SCRATCH_PATH,
      // The EC2 launch type sets no region in the container, and the AWS CLI needs one.
      AWS_DEFAULT_REGION: options.bucket.env.region,
    },
    stopTimeout: Duration.seconds(60),
    logging: ecs.LogDrivers.awsLogs({ logGroup: options.logGroup, streamPrefix: options.streamPrefix, mode: ecs.AwsLogDriverMode.NON_BLOCKING }),
  });
  shipper.linuxParameters!.dropCapabilities(ecs.Capability.ALL);
  shipper.linuxParameters!.addCapabilities(ecs.Capability.DAC_OVERRIDE);
  shipper.addMountPoints(
    { containerPath: FLUENTD_BUFFER_PATH, sourceVolume: 'buffer', readOnly: false },
    { containerPath: SCRATCH_PATH, sourceVolume: 'shipper-scratch', readOnly: false },
  );
  const init = taskDefinition.findContainer('BufferOwner');
  if (init) shipper.addContainerDependencies({ container: init, condition: ecs.ContainerDependencyCondition.SUCCESS });
  // ECS stops containers in the reverse order of their dependencies: fluentd flushes (and may write
  // its last secondary files) before the shipper gets SIGTERM and makes its last pass.
  fluentd.addContainerDependencies({ container: shipper, condition: ecs.ContainerDependencyCondition.START });

  taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['s3:PutObject'],
    resources: [options.bucket.arnForObjects(`${options.keyPrefix}*`)],
  }));
  // A PutObject into an SSE-KMS bucket needs a data key; `aws s3 mv` uploads files over 8 MB in
  // parts, and completing a multipart upload needs kms:Decrypt too.
  options.bucket.encryptionKey?.grant(taskDefinition.taskRole, 'kms:GenerateDataKey', 'kms:Decrypt');
  return shipper;
}
