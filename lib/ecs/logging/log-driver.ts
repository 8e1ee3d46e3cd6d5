import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { FORWARDER_PORT } from './private/constants';
import { validateLogTag } from './private/tags';

/** Options of {@link ForwarderLogging.logDriver}. */
export interface ForwarderLogDriverOptions {
  /**
   * Bytes the Docker daemon keeps in memory per container while the forwarder is unreachable.
   * @default 8388608 (8 MiB, the Docker default)
   */
  readonly bufferLimitBytes?: number;
}

/**
 * The log driver of application containers: Docker's `fluentd` driver pointed at the forwarder on
 * the same host, always asynchronous so that a container starts, runs and stops normally while
 * the forwarder is down (logs then wait in the daemon's buffer, up to its limit).
 */
export class ForwarderLogging {
  /**
   * A log driver that tags the container's output with `tag`.
   * @param scope construct that reports an invalid tag
   * @param tag the log type, optionally with sub-parts, e.g. `rails` or `rails.access`
   */
  public static logDriver(scope: Construct, tag: string, options: ForwarderLogDriverOptions = {}): ecs.LogDriver {
    validateLogTag(scope, 'tag', tag);
    return ecs.LogDrivers.fluentd({
      address: `127.0.0.1:${FORWARDER_PORT}`,
      async: true,
      tag,
      bufferLimit: options.bufferLimitBytes,
      subSecondPrecision: true,
    });
  }

  private constructor() {}
}
