import { Duration } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { AppServiceBase, AppServiceBaseProps } from './app-service-base';
import { invalidProp } from '../../private/validation';

/** Props of a {@link WorkerService}. */
export interface WorkerServiceProps extends AppServiceBaseProps {
  /**
   * Leave the stop timeout to the container instances' ECS agent (`ECS_CONTAINER_STOP_TIMEOUT`,
   * set by `CapacityCluster`'s `containerStopTimeout`), for jobs that need more than the 120
   * seconds a container definition allows. Cannot be combined with `stopTimeout`.
   * @default false
   */
  readonly inheritAgentStopTimeout?: boolean;
}

/**
 * A job worker (Sidekiq, Resque, delayed_job, ...) with no load balancer. Its stop timeout is as
 * long as ECS allows (120 seconds, or the agent's longer setting with `inheritAgentStopTimeout`)
 * so that a worker told to stop can finish the job in hand instead of being killed mid-job.
 */
export class WorkerService extends AppServiceBase {
  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id, props, { stopTimeout: props.inheritAgentStopTimeout ? undefined : Duration.seconds(120) });
    this._createService(props, {});
  }

  /** @internal */
  protected _validateVariant(baseProps: AppServiceBaseProps): void {
    const props = baseProps as WorkerServiceProps;
    if (props.inheritAgentStopTimeout && props.stopTimeout !== undefined) {
      invalidProp(this, 'stopTimeout', `${props.stopTimeout.toSeconds()} seconds`, 'is set together with inheritAgentStopTimeout', 'Remove stopTimeout to inherit the agent\'s ECS_CONTAINER_STOP_TIMEOUT, or unset inheritAgentStopTimeout.');
    }
  }
}
