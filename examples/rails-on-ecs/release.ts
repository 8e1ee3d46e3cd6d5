import { Duration, RemovalPolicy, TimeZone } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { MigrationGate, ScheduledBatchJob } from '../../lib';
import type { RailsOnEcsStack } from './rails-on-ecs-stack';

/** What {@link addReleaseFlow} adds to the Rails stack. */
export interface ReleaseFlow {
  /** Migration on the utility cluster, then web and worker deployments. */
  readonly gate: MigrationGate;
  /** Topic that hears about every release, successful or not. */
  readonly notifications: sns.Topic;
  /** Nightly report at 03:00 Tokyo time; a run is skipped while the previous one still runs. */
  readonly dailyReport: ScheduledBatchJob;
  /** Session table clean-up every 15 minutes. */
  readonly sessionCleanup: ScheduledBatchJob;
}

/**
 * The FiNC deploy flow on the Rails platform: pushing an image tagged `release-*` to the
 * `rails-on-ecs/app` repository runs `assets:precompile` (asset upload) and `db:migrate` as a
 * one-off task on the utility cluster; only if it exits 0 are the web and worker services
 * redeployed. Batch jobs reuse the worker's task definition with another command.
 */
export function addReleaseFlow(stack: RailsOnEcsStack): ReleaseFlow {
  // The worker's task definition has no port mappings, so it can run anywhere on the utility cluster.
  const taskDefinition = stack.workerTaskDefinition;
  const utilityStrategy = [{ capacityProvider: stack.utilityCapacityProvider.capacityProviderName, weight: 1 }];

  const notificationKey = new kms.Key(stack, 'ReleaseNotificationsKey', {
    description: 'Encrypts the release notifications topic',
    enableKeyRotation: true,
    removalPolicy: RemovalPolicy.RETAIN,
  });
  const notifications = new sns.Topic(stack, 'ReleaseNotifications', { masterKey: notificationKey, enforceSSL: true });

  const gate = new MigrationGate(stack, 'Release', {
    cluster: stack.utilityCluster,
    taskDefinition,
    // Managed scaling of the utility capacity provider adds an instance when the task does not fit.
    launchTarget: new tasks.EcsEc2LaunchTarget({ capacityProviderOptions: tasks.CapacityProviderOptions.custom(utilityStrategy) }),
    services: [stack.webService, stack.workerService],
    repository: ecr.Repository.fromRepositoryName(stack, 'AppRepository', 'rails-on-ecs/app'),
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

  return { gate, notifications, dailyReport, sessionCleanup };
}
