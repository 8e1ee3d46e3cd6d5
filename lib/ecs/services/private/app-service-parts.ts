import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { ForwarderLogging } from '../../logging/log-driver';
import { acknowledgeControl } from '../../../private/guard';
import { acknowledgeWildcards } from '../../../private/nag';
import { invalidProp, requireDnsLabel, requireDurationInRange, requireHostName, requireIntegerInRange, requireOrdered, requirePort } from '../../../private/validation';
import type { AppServiceCloudMapOptions, AppServiceOptions } from '../app-service';

/** The largest stopTimeout the ECS API accepts in a container definition. */
const MAX_CONTAINER_STOP_TIMEOUT_SECONDS = 120;
/** The empty task volume at /tmp of read-only application containers. */
const TMP_VOLUME = 'tmp';
/** Task definitions that have the volume already (TaskDefinition keeps its volumes private). */
const withTmpVolume = new WeakSet<ecs.TaskDefinition>();

/** Names of environment variables that must come through `secrets` instead. */
const SECRET_LIKE_NAME = /(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|ACCESS_?KEY|MASTER_?KEY)/i;
/** Values that carry credentials whatever their name: AWS access keys, URLs with a password. */
const SECRET_LIKE_VALUE = /(AKIA[0-9A-Z]{16}|[a-z][a-z0-9+.-]*:\/\/[^/\s:@]+:[^/\s@]+@)/;

/** What {@link addAppTaskDefinition} creates. */
export interface AppTask {
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly container: ecs.ContainerDefinition;
}

/** What {@link addAppService} creates. */
export interface AppServiceParts {
  readonly service: ecs.Ec2Service;
  readonly scalableTaskCount: ecs.ScalableTaskCount;
  /** The CPU baseline target-tracking policy. */
  readonly cpuScaling: appscaling.TargetTrackingScalingPolicy;
}

/** Checks the options the web and the worker services share; call it before creating any child. */
export function validateAppServiceOptions(scope: Construct, props: AppServiceOptions): void {
  requireIntegerInRange(scope, 'minTaskCount', props.minTaskCount, 0, 1000);
  requireIntegerInRange(scope, 'maxTaskCount', props.maxTaskCount, 1, 1000);
  requireOrdered(scope, 'minTaskCount', props.minTaskCount ?? 2, 'maxTaskCount', props.maxTaskCount ?? 10);
  requireIntegerInRange(scope, 'targetCpuUtilizationPercent', props.targetCpuUtilizationPercent, 10, 95);
  requireIntegerInRange(scope, 'memoryLimitMiB', props.memoryLimitMiB, 64, 120000);
  rejectRootUser(scope, 'user', props.user, 'runs the application as root', 'Use an unprivileged user such as "1000:1000" (and own the app folders in the image).');
  if (props.stopTimeout !== undefined && !Token.isUnresolved(props.stopTimeout.toSeconds())) {
    const seconds = props.stopTimeout.toSeconds();
    if (seconds < 2 || seconds > MAX_CONTAINER_STOP_TIMEOUT_SECONDS) {
      invalidProp(scope, 'stopTimeout', `${seconds} seconds`, `must be from 2 to ${MAX_CONTAINER_STOP_TIMEOUT_SECONDS} seconds (the ECS limit for a container)`,
        'For longer shutdowns, set the cluster\'s containerStopTimeout (the agent\'s ECS_CONTAINER_STOP_TIMEOUT) and let the service inherit it (WorkerService inheritAgentStopTimeout).');
    }
  }
  if (props.cloudMap) validateCloudMap(scope, props.cloudMap);
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

/** Fails when a literal `user` is root (uid 0 or `root`, with or without a group); Tokens pass. */
export function rejectRootUser(scope: Construct, prop: string, user: string | undefined, problem: string, fix: string): void {
  if (user !== undefined && !Token.isUnresolved(user) && /^(0|root)(:|$)/.test(user.trim())) {
    invalidProp(scope, prop, user, problem, fix);
  }
}

/**
 * The EC2 task definition (`TaskDefinition`) with one non-root application container (`App`) that
 * logs to the per-host forwarder asynchronously and takes secrets only through `ecs.Secret`.
 * `defaultStopTimeout` undefined leaves the stop timeout to the agent's ECS_CONTAINER_STOP_TIMEOUT.
 */
export function addAppTaskDefinition(scope: Construct, props: AppServiceOptions, defaultStopTimeout: Duration | undefined): AppTask {
  const taskDefinition = new ecs.Ec2TaskDefinition(scope, 'TaskDefinition', { networkMode: ecs.NetworkMode.BRIDGE });
  const container = taskDefinition.addContainer('App', {
    containerName: 'app',
    image: props.image,
    command: props.command,
    environment: props.environment,
    secrets: props.secrets,
    memoryLimitMiB: props.memoryLimitMiB ?? 1024,
    cpu: props.cpu ?? 512,
    user: props.user ?? '1000:1000',
    readonlyRootFilesystem: props.readonlyRootFilesystem ?? false,
    stopTimeout: props.stopTimeout ?? defaultStopTimeout,
    logging: ForwarderLogging.logDriver(scope, props.logTag),
    essential: true,
  });
  if (props.readonlyRootFilesystem) {
    mountWritableTmp(taskDefinition, container);
  } else {
    acknowledgeControl(taskDefinition, 'ecs_containers_readonly_access_check',
      'Application images (Rails: tmp/pids and tmp/cache under the app root) usually write inside their root filesystem; ' +
      'readonlyRootFilesystem: true makes the app (and proxy) root read-only and mounts an empty task volume at /tmp for their writes.',
      'readonlyRootFilesystem');
  }
  acknowledgeControl(taskDefinition, 'ecs_awsvpc_networking_enabled_check',
    'The talk\'s unicorn design packs many tasks per instance in bridge mode with dynamic host ports behind the load balancer; ' +
    'awsvpc would need an ENI per task, which caps tasks per instance far below that without ENI trunking.');
  if (props.environment && Object.keys(props.environment).length > 0) {
    Validations.of(taskDefinition).acknowledge({
      id: 'AwsSolutions-ECS2',
      reason: 'The environment holds only values that passed the secret-name and secret-value checks; credentials must come through ecs.Secret.',
    });
  }
  // An ECR image makes aws-cdk-lib grant the execution role ecr:GetAuthorizationToken, which accepts only "*".
  acknowledgeWildcards(taskDefinition, [
    { finding: /^Resource::\*$/, actions: /^ecr:GetAuthorizationToken$/, reason: 'ecr:GetAuthorizationToken (pulling the image from ECR) has no resource-level permissions; the pull itself is limited to the repository.' },
  ]);
  return { taskDefinition, container };
}

/** Gives a read-only container the task's empty `tmp` volume at /tmp (created once per task definition). */
export function mountWritableTmp(taskDefinition: ecs.TaskDefinition, container: ecs.ContainerDefinition): void {
  // Task-scoped and emptied with the task; Docker fills a new volume from the image's /tmp (mode 1777).
  if (!withTmpVolume.has(taskDefinition)) taskDefinition.addVolume({ name: TMP_VOLUME });
  withTmpVolume.add(taskDefinition);
  container.addMountPoints({ containerPath: '/tmp', sourceVolume: TMP_VOLUME, readOnly: false });
}

/**
 * The service (`Service`) with a rolling deployment that rolls back on failure, spread across zones
 * and instances, and CPU target tracking (`CpuScaling`) as the baseline scaling.
 */
export function addAppService(scope: Construct, props: AppServiceOptions, taskDefinition: ecs.Ec2TaskDefinition, extra: Partial<ecs.Ec2ServiceProps>): AppServiceParts {
  const service = new ecs.Ec2Service(scope, 'Service', {
    cluster: props.cluster,
    taskDefinition,
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
  // scaleOnCpuUtilization returns nothing; the policy is the child 'CpuScaling' of the task count's 'Target'.
  const cpuScaling = scalableTaskCount.node.findChild('Target').node.findChild('CpuScaling') as appscaling.TargetTrackingScalingPolicy;
  if (props.enableExecuteCommand ?? true) {
    acknowledgeWildcards(taskDefinition.taskRole, [
      { finding: /^Resource::\*$/, actions: /^(ssmmessages:(Create|Open)(Control|Data)Channel|logs:DescribeLogGroups)$/, reason: 'ECS Exec: the SSM Session Manager channel actions (ssmmessages:*Channel) and logs:DescribeLogGroups accept no resource ARN.' },
      { finding: /^Resource::arn:.*:log-group:.*:\*$/, actions: /^logs:(CreateLogStream|DescribeLogStreams|PutLogEvents)$/, reason: 'ECS Exec writes session streams, named at run time, into the cluster\'s own encrypted session log group only.' },
    ]);
  }
  return { service, scalableTaskCount, cpuScaling };
}

/** Leaves scale-in to other policies: the target-tracking policy then only scales out. Idempotent. */
export function disableScaleIn(policy: appscaling.TargetTrackingScalingPolicy): void {
  const cfn = policy.node.defaultChild as appscaling.CfnScalingPolicy;
  cfn.addPropertyOverride('TargetTrackingScalingPolicyConfiguration.DisableScaleIn', true);
}

function validateCloudMap(scope: Construct, options: AppServiceCloudMapOptions): void {
  const ns = options.cloudMapNamespace;
  if (ns.type === servicediscovery.NamespaceType.HTTP) {
    invalidProp(scope, 'cloudMap.cloudMapNamespace', ns.namespaceName, 'is an HTTP namespace, which has no DNS records; bridge-mode tasks are published as SRV records',
      'Use a private DNS namespace (servicediscovery.PrivateDnsNamespace) in the VPC of the callers.');
  }
  requireDnsLabel(scope, 'cloudMap.name', options.name);
  if (!Token.isUnresolved(options.name) && !Token.isUnresolved(ns.namespaceName)) {
    requireHostName(scope, 'cloudMap.name', `${options.name}.${ns.namespaceName}`);
  }
  requirePort(scope, 'cloudMap.containerPort', options.containerPort);
  requireDurationInRange(scope, 'cloudMap.dnsTtl', options.dnsTtl, Duration.seconds(0), Duration.days(1));
}

/**
 * Registers the service's tasks in the Cloud Map namespace: SRV records (bridge mode) for the
 * container port, health from ECS (a custom health check ECS updates as tasks pass or fail).
 */
export function registerInCloudMap(service: ecs.Ec2Service, options: AppServiceCloudMapOptions, container: ecs.ContainerDefinition, containerPort: number): servicediscovery.Service {
  return service.enableCloudMap({
    cloudMapNamespace: options.cloudMapNamespace,
    name: options.name,
    dnsRecordType: servicediscovery.DnsRecordType.SRV,
    dnsTtl: options.dnsTtl ?? Duration.seconds(10),
    container,
    containerPort,
  });
}
