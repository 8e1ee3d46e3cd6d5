import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { AppServiceOptions, IAppService } from './app-service';
import { addAppService, addAppTaskDefinition, disableScaleIn, registerInCloudMap, validateAppServiceOptions } from './private/app-service-parts';
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
  /** The ECS service (an `ecs.Ec2Service`; typed as the interface jsii requires of IAppService). */
  public readonly service: ecs.IBaseService;
  /** The task definition (an `ecs.Ec2TaskDefinition` in bridge mode). */
  public readonly taskDefinition: ecs.TaskDefinition;
  /** The application (job runner) container. */
  public readonly container: ecs.ContainerDefinition;
  /** The service's scalable task count, with the CPU baseline attached; add further policies to it. */
  public readonly scalableTaskCount: ecs.ScalableTaskCount;
  /** The hosts of the service's tasks (bridge mode: the cluster's instances). */
  public readonly connections: ec2.Connections;
  /** The Cloud Map service the tasks register in, when `cloudMap` is set. */
  public readonly cloudMapService?: servicediscovery.IService;
  private readonly cpuScaling: appscaling.TargetTrackingScalingPolicy;

  constructor(scope: Construct, id: string, props: WorkerServiceProps) {
    super(scope, id);
    validateAppServiceOptions(this, props);
    if (props.inheritAgentStopTimeout && props.stopTimeout !== undefined) {
      invalidProp(this, 'stopTimeout', `${props.stopTimeout.toSeconds()} seconds`, 'is set together with inheritAgentStopTimeout', 'Remove stopTimeout to inherit the agent\'s ECS_CONTAINER_STOP_TIMEOUT, or unset inheritAgentStopTimeout.');
    }
    if (props.cloudMap && props.cloudMap.containerPort === undefined) {
      invalidProp(this, 'cloudMap.containerPort', undefined, 'is missing: a worker has no port unless you name the one it listens on',
        'Set cloudMap.containerPort to the port the worker serves (e.g. 8080), or do not register a worker that takes no calls.');
    }
    const { taskDefinition, container } = addAppTaskDefinition(this, props, props.inheritAgentStopTimeout ? undefined : Duration.seconds(120));
    this.taskDefinition = taskDefinition;
    this.container = container;
    const { service, scalableTaskCount, cpuScaling } = addAppService(this, props, taskDefinition, {});
    this.service = service;
    this.scalableTaskCount = scalableTaskCount;
    this.cpuScaling = cpuScaling;
    this.connections = service.connections;
    if (props.cloudMap) {
      // Bridge mode: a dynamic host port per task, which the SRV record carries.
      this.container.addPortMappings({ containerPort: props.cloudMap.containerPort!, hostPort: 0, protocol: ecs.Protocol.TCP });
      this.cloudMapService = registerInCloudMap(service, props.cloudMap, this.container, props.cloudMap.containerPort!);
    }
  }

  public disableCpuScaleIn(): void {
    disableScaleIn(this.cpuScaling);
  }
}
