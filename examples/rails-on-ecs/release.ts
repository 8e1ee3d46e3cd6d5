import { Duration, RemovalPolicy, TimeZone, Validations } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { ControlTower, ForwarderLogging, MigrationGate, ScheduledBatchJob } from '../../lib';
import type { RailsOnEcsStack } from './rails-on-ecs-stack';

/** What {@link addReleaseFlow} adds to the Rails stack. */
export interface ReleaseFlow {
  /** Migration on the utility cluster, then web and worker deployments. */
  readonly gate: MigrationGate;
  /** The migration task: the application image under the `migrating` tag, logs as `job`. */
  readonly migrationTaskDefinition: ecs.Ec2TaskDefinition;
  /** Topic that hears about every release, successful or not. */
  readonly notifications: sns.Topic;
  /** Nightly report at 03:00 Tokyo time; a run is skipped while the previous one still runs. */
  readonly dailyReport: ScheduledBatchJob;
  /** Session table clean-up every 15 minutes. */
  readonly sessionCleanup: ScheduledBatchJob;
}

/**
 * The FiNC deploy flow on the Rails platform: pushing an image tagged `release-*` to the
 * `rails-on-ecs/app` repository releases its digest: `assets:precompile` (asset upload) and
 * `db:migrate` run as a one-off task on the utility cluster with that digest; only if it exits 0
 * does the digest become `live` and are the web and worker services (running `:live`) redeployed.
 * Batch jobs reuse the worker's task definition (the live image) with another command.
 */
export function addReleaseFlow(stack: RailsOnEcsStack): ReleaseFlow {
  // The worker's task definition has no port mappings, so it can run anywhere on the utility cluster.
  const taskDefinition = stack.workerTaskDefinition;
  const migrationTaskDefinition = new ecs.Ec2TaskDefinition(stack, 'MigrationTask', { networkMode: ecs.NetworkMode.BRIDGE });
  migrationTaskDefinition.addContainer('App', {
    containerName: 'app',
    image: MigrationGate.migrationImage(stack.appRepository),
    environment: stack.appEnvironment,
    secrets: stack.appSecrets,
    memoryLimitMiB: 1024,
    cpu: 512,
    user: '1000:1000',
    // As the services: the image writes only /tmp, an empty task volume.
    readonlyRootFilesystem: true,
    logging: ForwarderLogging.logDriver(stack, 'job'),
    essential: true,
  });
  migrationTaskDefinition.addVolume({ name: 'tmp' });
  migrationTaskDefinition.defaultContainer!.addMountPoints({ containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false });
  // Bridge like the services: an awsvpc task would take one of the few ENIs of a utility instance,
  // which the awsvpc log aggregators already use.
  Validations.of(migrationTaskDefinition).acknowledge({
    id: 'cdk-validator-cfnguard::ecs_awsvpc_networking_enabled_check',
    reason: '[exempt] The migration runs in bridge mode like the web and worker tasks: in awsvpc mode it would need an ENI of a utility instance, whose few ENIs the awsvpc log aggregators use.',
  });
  Validations.of(migrationTaskDefinition).acknowledge({
    id: 'AwsSolutions-ECS2',
    reason: 'The environment holds RAILS_ENV and RAILS_LOG_TO_STDOUT only; credentials come through ecs.Secret.',
  });
  // Pulling the release image from ECR grants ecr:GetAuthorizationToken, which accepts only "*" (WebService and
  // WorkerService acknowledge it on their own execution roles; this task definition is the example's own).
  Validations.of(migrationTaskDefinition.obtainExecutionRole()).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'ecr:GetAuthorizationToken (pulling the release image from ECR) has no resource-level permissions; the pull itself is limited to the repository.',
  });
  const utilityStrategy = [{ capacityProvider: stack.utilityCapacityProvider.capacityProviderName, weight: 1 }];

  const notificationKey = new kms.Key(stack, 'ReleaseNotificationsKey', {
    description: 'Encrypts the release notifications topic',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  ControlTower.restrictGrantsToAwsServices(notificationKey);
  const notifications = new sns.Topic(stack, 'ReleaseNotifications', { masterKey: notificationKey, enforceSSL: true });

  const gate = new MigrationGate(stack, 'Release', {
    cluster: stack.utilityCluster,
    taskDefinition: migrationTaskDefinition,
    // Managed scaling of the utility capacity provider adds an instance when the task does not fit.
    launchTarget: new tasks.EcsEc2LaunchTarget({ capacityProviderOptions: tasks.CapacityProviderOptions.custom(utilityStrategy) }),
    services: [stack.webService, stack.workerService],
    repository: stack.appRepository,
    imageTagPattern: 'release-*',
    notificationTopic: notifications,
    migrationTimeout: Duration.minutes(30),
  });

  const dailyReport = new ScheduledBatchJob(stack, 'DailyReport', {
    cluster: stack.utilityCluster,
    taskDefinition,
    command: ['bundle', 'exec', 'rails', 'reports:daily'],
    schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '3', timeZone: TimeZone.ASIA_TOKYO }),
    capacityProviderStrategies: utilityStrategy,
    flexibleTimeWindow: Duration.minutes(15),
  });
  const sessionCleanup = new ScheduledBatchJob(stack, 'SessionCleanup', {
    cluster: stack.utilityCluster,
    taskDefinition,
    command: ['bundle', 'exec', 'rails', 'db:sessions:trim'],
    schedule: scheduler.ScheduleExpression.rate(Duration.minutes(15)),
    capacityProviderStrategies: utilityStrategy,
    flexibleTimeWindow: Duration.minutes(0),
    retryAttempts: 1,
  });

  return { gate, migrationTaskDefinition, notifications, dailyReport, sessionCleanup };
}
