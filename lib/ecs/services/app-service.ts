import { Duration } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct, IConstruct } from 'constructs';
import { disableScaleIn } from './private/app-service-parts';
import { invalidProp } from '../../private/validation';

/** An application service other constructs can scale, watch and connect to. */
export interface IAppService extends IConstruct, ec2.IConnectable {
  /** The ECS service. */
  readonly service: ecs.IBaseService;
  /** The task definition. */
  readonly taskDefinition: ecs.TaskDefinition;
  /** The application container. */
  readonly container: ecs.ContainerDefinition;
  /** The service's one scalable task count (ECS allows one scalable target per service). */
  readonly scalableTaskCount: ecs.ScalableTaskCount;
  /** Disarms scale-in of the CPU baseline policy, so that another policy alone decides scale-in. Idempotent. */
  disableCpuScaleIn(): void;
}

/** Props shared by {@link WebServiceProps} and {@link WorkerServiceProps}. */
export interface AppServiceOptions {
  /** The cluster to run in; it needs EC2 capacity (and a forwarder on every instance). */
  readonly cluster: ecs.ICluster;
  /** The application image. */
  readonly image: ecs.ContainerImage;
  /**
   * Fluentd tag of the application's output: a log type, optionally with sub-parts (`rails`, `rails.web`).
   */
  readonly logTag: string;
  /**
   * Command of the application container.
   * @default - the image's CMD
   */
  readonly command?: string[];
  /**
   * Plain, non-secret environment values. Names or values that look like credentials are rejected.
   * @default - none
   */
  readonly environment?: { [key: string]: string };
  /**
   * Secrets from Secrets Manager or Parameter Store, injected by ECS at start.
   * @default - none
   */
  readonly secrets?: { [key: string]: ecs.Secret };
  /**
   * Memory hard limit of the application container.
   * @default 1024
   */
  readonly memoryLimitMiB?: number;
  /**
   * CPU units of the application container.
   * @default 512
   */
  readonly cpu?: number;
  /**
   * The user the application runs as; root is rejected.
   * @default '1000:1000'
   */
  readonly user?: string;
  /**
   * Run the application container (and the web service's proxy) with a read-only root filesystem
   * (Control Tower CT.ECS.PR.6). The library then mounts an empty task volume at `/tmp` in each, so
   * the image must write nowhere else: for Rails, log to stdout and point `tmp/` (pids, cache) at
   * `/tmp`, e.g. with a symlink in the image.
   * @default false
   */
  readonly readonlyRootFilesystem?: boolean;
  /**
   * Time between SIGTERM and SIGKILL when ECS stops a task; ECS accepts at most 120 seconds per
   * container (longer waits come from the agent's ECS_CONTAINER_STOP_TIMEOUT, see WorkerService).
   * @default - 30 seconds for the web service, 120 seconds for the worker
   */
  readonly stopTimeout?: Duration;
  /**
   * Smallest number of tasks.
   * @default 2
   */
  readonly minTaskCount?: number;
  /**
   * Largest number of tasks.
   * @default 10
   */
  readonly maxTaskCount?: number;
  /**
   * Average CPU utilization the baseline target-tracking policy keeps, in percent.
   * @default 60
   */
  readonly targetCpuUtilizationPercent?: number;
  /**
   * Capacity provider strategy; pass one so that the tasks count toward managed scaling.
   * @default - launch type EC2
   */
  readonly capacityProviderStrategies?: ecs.CapacityProviderStrategy[];
  /**
   * Allow ECS Exec into the tasks (sessions are logged by the cluster's configuration).
   * @default true
   */
  readonly enableExecuteCommand?: boolean;
  /**
   * Name of the service.
   * @default - CloudFormation generates a name
   */
  readonly serviceName?: string;
  /**
   * Registers the tasks in a Cloud Map DNS namespace, which EKS services published by ExternalDNS
   * can share: callers in the VPC resolve `<name>.<namespace>` (SRV).
   * @default - not registered
   */
  readonly cloudMap?: AppServiceCloudMapOptions;
}

/**
 * Registration of an app service in Cloud Map. The tasks run in bridge mode, so ECS registers an
 * SRV record per task (host IP and the dynamic host port, with an A record for the host name
 * the SRV record points to) and keeps each instance's health in step with the task's health.
 */
export interface AppServiceCloudMapOptions {
  /** A private (or public) DNS namespace; HTTP namespaces have no DNS records to publish tasks in. */
  readonly cloudMapNamespace: servicediscovery.INamespace;
  /** The service's name in the namespace, a DNS label (`orders` → `orders.<namespace>`). */
  readonly name: string;
  /**
   * Container port the SRV records publish.
   * @default - WebService: the port the load balancer targets (the proxy's when there is one); WorkerService: none, so it must be given
   */
  readonly containerPort?: number;
  /**
   * How long resolvers cache the records; short, because tasks come and go.
   * @default Duration.seconds(10)
   */
  readonly dnsTtl?: Duration;
}

/** An ECS service built outside this library, described for {@link AppService.fromServiceAttributes}. */
export interface AppServiceAttributes {
  /** The ECS service. */
  readonly service: ecs.IBaseService;
  /** The application container (of the service's task definition). */
  readonly container: ecs.ContainerDefinition;
  /**
   * The service's scalable task count, from `service.autoScaleTaskCount()`.
   */
  readonly scalableTaskCount: ecs.ScalableTaskCount;
  /**
   * The task definition.
   * @default - the container's task definition
   */
  readonly taskDefinition?: ecs.TaskDefinition;
  /**
   * Who may reach the service's tasks.
   * @default - the service's own connections when it is an `ecs.BaseService`; otherwise none (no security groups)
   */
  readonly connections?: ec2.Connections;
  /**
   * A target-tracking policy that `disableCpuScaleIn()` stops from scaling in.
   * @default - none: `disableCpuScaleIn()` has nothing to disarm
   */
  readonly cpuScalingPolicy?: appscaling.TargetTrackingScalingPolicy;
}

/** Entry points for services not created by this library. */
export class AppService {
  /**
   * An {@link IAppService} for an ECS service you built yourself, so that it can be passed where the
   * library expects one (step scaling, the worker watchdog).
   */
  public static fromServiceAttributes(scope: Construct, id: string, attrs: AppServiceAttributes): IAppService {
    return new ImportedAppService(scope, id, attrs);
  }

  private constructor() {}
}

class ImportedAppService extends Construct implements IAppService {
  public readonly service: ecs.IBaseService;
  public readonly taskDefinition: ecs.TaskDefinition;
  public readonly container: ecs.ContainerDefinition;
  public readonly scalableTaskCount: ecs.ScalableTaskCount;
  public readonly connections: ec2.Connections;
  private readonly cpuScalingPolicy?: appscaling.TargetTrackingScalingPolicy;

  constructor(scope: Construct, id: string, attrs: AppServiceAttributes) {
    super(scope, id);
    const taskDefinition = attrs.taskDefinition ?? attrs.container.taskDefinition;
    if (attrs.container.taskDefinition !== taskDefinition) {
      invalidProp(this, 'container', attrs.container.containerName, `is not in the task definition ${taskDefinition.node.path}`, 'Pass a container of the service\'s task definition.');
    }
    if (attrs.service instanceof ecs.BaseService) {
      if (attrs.service.taskDefinition !== taskDefinition) {
        invalidProp(this, 'taskDefinition', taskDefinition.node.path, `is not the task definition of ${attrs.service.node.path}`, 'Pass the service\'s own task definition and container.');
      }
      // autoScaleTaskCount() creates the task count as the child 'TaskCount' of its service.
      if (attrs.scalableTaskCount.node.scope !== attrs.service) {
        invalidProp(this, 'scalableTaskCount', attrs.scalableTaskCount.node.path, `belongs to another service than ${attrs.service.node.path}`,
          'Pass the value returned by autoScaleTaskCount() of this service.');
      }
    }
    this.service = attrs.service;
    this.taskDefinition = taskDefinition;
    this.container = attrs.container;
    this.scalableTaskCount = attrs.scalableTaskCount;
    this.connections = attrs.connections ?? (attrs.service instanceof ecs.BaseService ? attrs.service.connections : new ec2.Connections());
    this.cpuScalingPolicy = attrs.cpuScalingPolicy;
  }

  public disableCpuScaleIn(): void {
    if (this.cpuScalingPolicy) disableScaleIn(this.cpuScalingPolicy);
  }
}
