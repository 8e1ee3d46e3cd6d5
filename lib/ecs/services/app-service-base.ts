import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { ForwarderLogging } from '../logging/log-driver';
import { acknowledgeWildcards } from '../private/nag';
import { invalidProp, requireIntegerInRange, requireOrdered } from '../../private/validation';

/** The largest stopTimeout the ECS API accepts in a container definition. */
const MAX_CONTAINER_STOP_TIMEOUT_SECONDS = 120;

/** Names of environment variables that must come through `secrets` instead. */
const SECRET_LIKE_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY|MASTER_?KEY)/i;
/** Values that carry credentials whatever their name: AWS access keys, URLs with a password. */
const SECRET_LIKE_VALUE = /(AKIA[0-9A-Z]{16}|[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@)/;

/** Props shared by the web and the worker services. */
export interface AppServiceBaseProps {
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
}

/** The defaults that differ between the web and the worker variants. */
export interface AppServiceDefaults {
  /** Undefined leaves the stop timeout to the ECS agent's ECS_CONTAINER_STOP_TIMEOUT. */
  readonly stopTimeout?: Duration;
}

/**
 * What the web and the worker services share: an EC2 task definition with one non-root
 * application container that logs to the per-host forwarder asynchronously and takes secrets only
 * through `ecs.Secret`, a service with a rolling deployment that rolls back on failure, and CPU
 * target tracking as the baseline scaling.
 */
export abstract class AppServiceBase extends Construct {
  /** The task definition. */
  public readonly taskDefinition: ecs.Ec2TaskDefinition;
  /** The application container. */
  public readonly container: ecs.ContainerDefinition;
  private serviceCreated?: ecs.Ec2Service;
  private taskCount?: ecs.ScalableTaskCount;

  protected constructor(scope: Construct, id: string, props: AppServiceBaseProps, defaults: AppServiceDefaults) {
    super(scope, id);
    AppServiceBase.validateBase(this, props);
    this._validateVariant(props);

    this.taskDefinition = new ecs.Ec2TaskDefinition(this, 'TaskDefinition', { networkMode: ecs.NetworkMode.BRIDGE });
    this.container = this.taskDefinition.addContainer('App', {
      containerName: 'app',
      image: props.image,
      command: props.command,
      environment: props.environment,
      secrets: props.secrets,
      memoryLimitMiB: props.memoryLimitMiB ?? 1024,
      cpu: props.cpu ?? 512,
      user: props.user ?? '1000:1000',
      stopTimeout: props.stopTimeout ?? defaults.stopTimeout,
      logging: ForwarderLogging.logDriver(this, props.logTag),
      essential: true,
    });
    if (props.environment && Object.keys(props.environment).length > 0) {
      Validations.of(this.taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'The environment holds only values that passed the secret-name and secret-value checks; credentials must come through ecs.Secret.',
      });
    }
  }

  /**
   * Checks the variant's own props; called before any child exists, so it must use `props` only.
   * @internal
   */
  protected _validateVariant(_props: AppServiceBaseProps): void {}

  /** The ECS service. */
  public get service(): ecs.Ec2Service {
    return this.serviceCreated!;
  }

  /**
   * The service's scalable task count, with the CPU baseline attached. Add more policies to it
   * (a service can have only one scalable target).
   */
  public get scalableTaskCount(): ecs.ScalableTaskCount {
    return this.taskCount!;
  }

  /**
   * Creates the service and its baseline scaling; subclasses call it once their containers exist.
   * @internal
   */
  protected _createService(props: AppServiceBaseProps, extra: Partial<ecs.Ec2ServiceProps>): ecs.Ec2Service {
    const service = new ecs.Ec2Service(this, 'Service', {
      cluster: props.cluster,
      taskDefinition: this.taskDefinition,
      serviceName: props.serviceName,
      capacityProviderStrategies: props.capacityProviderStrategies,
      circuitBreaker: { enable: true, rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      enableExecuteCommand: props.enableExecuteCommand ?? true,
      placementStrategies: [
        ecs.PlacementStrategy.spreadAcross(ecs.BuiltInAttributes.AVAILABILITY_ZONE),
        ecs.PlacementStrategy.spreadAcrossInstances(),
      ],
      ...extra,
    });
    const scalableTaskCount = service.autoScaleTaskCount({ minCapacity: props.minTaskCount ?? 2, maxCapacity: props.maxTaskCount ?? 10 });
    scalableTaskCount.scaleOnCpuUtilization('CpuScaling', {
      targetUtilizationPercent: props.targetCpuUtilizationPercent ?? 60,
      scaleOutCooldown: Duration.minutes(1),
      scaleInCooldown: Duration.minutes(5),
    });
    if (props.enableExecuteCommand ?? true) {
      acknowledgeWildcards(this.taskDefinition.taskRole, [
        { finding: /^Resource::\*$/, actions: /^(ssmmessages:(Create|Open)(Control|Data)Channel|logs:DescribeLogGroups)$/, reason: 'ECS Exec: the SSM Session Manager channel actions (ssmmessages:*Channel) and logs:DescribeLogGroups accept no resource ARN.' },
        { finding: /^Resource::arn:.*:log-group:.*:\*$/, actions: /^logs:(CreateLogStream|DescribeLogStreams|PutLogEvents)$/, reason: 'ECS Exec writes session streams, named at run time, into the cluster\'s own encrypted session log group only.' },
      ]);
    }
    this.serviceCreated = service;
    this.taskCount = scalableTaskCount;
    return service;
  }

  private static validateBase(scope: Construct, props: AppServiceBaseProps): void {
    requireIntegerInRange(scope, 'minTaskCount', props.minTaskCount, 0, 1000);
    requireIntegerInRange(scope, 'maxTaskCount', props.maxTaskCount, 1, 1000);
    requireOrdered(scope, 'minTaskCount', props.minTaskCount ?? 2, 'maxTaskCount', props.maxTaskCount ?? 10);
    requireIntegerInRange(scope, 'targetCpuUtilizationPercent', props.targetCpuUtilizationPercent, 10, 95);
    requireIntegerInRange(scope, 'memoryLimitMiB', props.memoryLimitMiB, 64, 120000);
    const user = props.user;
    if (user !== undefined && !Token.isUnresolved(user) && /^(0|root)(:|$)/.test(user.trim())) {
      invalidProp(scope, 'user', user, 'runs the application as root', 'Use an unprivileged user such as "1000:1000" (and own the app folders in the image).');
    }
    if (props.stopTimeout !== undefined && !Token.isUnresolved(props.stopTimeout.toSeconds())) {
      const seconds = props.stopTimeout.toSeconds();
      if (seconds < 2 || seconds > MAX_CONTAINER_STOP_TIMEOUT_SECONDS) {
        invalidProp(scope, 'stopTimeout', `${seconds} seconds`, `must be from 2 to ${MAX_CONTAINER_STOP_TIMEOUT_SECONDS} seconds (the ECS limit for a container)`,
          'For longer shutdowns, set the cluster\'s containerStopTimeout (the agent\'s ECS_CONTAINER_STOP_TIMEOUT) and let the service inherit it (WorkerService inheritAgentStopTimeout).');
      }
    }
    for (const name of Object.keys(props.environment ?? {}).sort()) {
      const value = props.environment![name];
      if (SECRET_LIKE_NAME.test(name)) {
        invalidProp(scope, `environment.${name}`, '(hidden)', 'looks like a secret by its name', `Store it in Secrets Manager or Parameter Store and pass it as secrets: { ${name}: ecs.Secret.fromSecretsManager(...) }.`);
      }
      if (!Token.isUnresolved(value) && SECRET_LIKE_VALUE.test(value)) {
        invalidProp(scope, `environment.${name}`, '(hidden)', 'holds what looks like a credential (an AWS access key or a URL with a password)', `Move it to Secrets Manager or Parameter Store and pass it as secrets: { ${name}: ecs.Secret.fromSecretsManager(...) }.`);
      }
    }
  }
}
