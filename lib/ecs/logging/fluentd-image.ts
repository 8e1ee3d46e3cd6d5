import * as ecs from 'aws-cdk-lib/aws-ecs';

/**
 * A fluentd container image and the arguments fluentd needs in it.
 *
 * The pinned images are the only place versions live in this area; the configuration is written
 * into the container at start, so no image is ever built.
 */
export class FluentdImage {
  /** The official fluentd image: enough for the forwarder (in_forward, out_forward, file buffers). */
  public static readonly FORWARDER_V1_17 = new FluentdImage('fluent/fluentd:v1.17-debian-1', []);

  /**
   * Official fluentd with fluent-plugin-s3, as published by the fluentd project. Its plugins are
   * installed through a Gemfile, which fluentd must be told about.
   */
  public static readonly S3_V1_17 = new FluentdImage('fluent/fluentd-kubernetes-daemonset:v1.17-debian-s3-1', ['--gemfile', '/fluentd/Gemfile']);

  /** Official fluentd with fluent-plugin-cloudwatch-logs. */
  public static readonly CLOUDWATCH_V1_17 = new FluentdImage('fluent/fluentd-kubernetes-daemonset:v1.17-debian-cloudwatch-1', ['--gemfile', '/fluentd/Gemfile']);

  /**
   * The AWS CLI image of the sidecar that ships secondary files to S3 (not a fluentd image: only
   * pinned here beside the fluentd images so that every version of the logging tier lives in one place).
   */
  public static readonly SECONDARY_FILE_SHIPPER_IMAGE = 'public.ecr.aws/aws-cli/aws-cli:2.17.0';

  /**
   * Any other image from a registry, e.g. a mirror in ECR Public or your own build with more plugins.
   * @param imageName name and tag (or digest) of the image
   * @param fluentdArgs extra arguments of the `fluentd` command, e.g. `['--gemfile', '/fluentd/Gemfile']`
   */
  public static of(imageName: string, fluentdArgs: string[] = []): FluentdImage {
    return new FluentdImage(imageName, fluentdArgs);
  }

  private constructor(
    /** Name and tag of the image. */
    public readonly imageName: string,
    /** Extra arguments of the `fluentd` command. */
    public readonly fluentdArgs: string[],
  ) {}

  /** The image as an ECS container image. */
  public toContainerImage(): ecs.ContainerImage {
    return ecs.ContainerImage.fromRegistry(this.imageName);
  }
}
