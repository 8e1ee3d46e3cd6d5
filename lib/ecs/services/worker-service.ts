import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { AppServiceOptions, IAppService } from './app-service';
import { addAppService, addAppTaskDefinition, disableScaleIn, validateAppServiceOptions } from './private/app-service-parts';
import { invalidProp } from '../../private/validation';

/** Props of a {@link WorkerService}. */
export interface WorkerServiceProps extends AppServiceOptions {
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
export class WorkerService extends Construct implements IAppService {
  /** The ECS service. */
  public readonly service: ecs.IBaseService;
  /** The task definition. */
  public readonly taskDefinition: ecs.TaskDefinition;
  /** The application (job runner) container. */
  public readonly container: ecs.ContainerDefinition;
  /** The service's scalable task count, with the CPU baseline attached; add further policies to it. */
  public readonly scalableTaskCount: ecs.ScalableTaskCount;
  /** The hosts of the service's tasks (bridge mode: the cluster's instances). */
  public readonly connections: ec2.Connections;
  private readonly cpuScaling: appscaling.TargetTrackingScalingPolicy;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    validateAppServiceOptions(this, props);
    if (props.inheritAgentStopTimeout && props.stopTimeout !== undefined) {
      invalidProp(this, 'stopTimeout', `${props.stopTimeout.toSeconds()} seconds`, 'is set together with inheritAgentStopTimeout', 'Remove stopTimeout to inherit the agent\'s ECS_CONTAINER_STOP_TIMEOUT, or unset inheritAgentStopTimeout.');
    }
    ({ taskDefinition: this.taskDefinition, container: this.container } = addAppTaskDefinition(this, props,
      props.inheritAgentStopTimeout ? undefined : Duration.seconds(120)));
    const created = addAppService(this, props, this.taskDefinition, {});
    ({ service: this.service, scalableTaskCount: this.scalableTaskCount, cpuScaling: this.cpuScaling } = created);
    this.connections = created.service.connections;
  }

  public disableCpuScaleIn(): void {
    disableScaleIn(this.cpuScaling);
  }
}
