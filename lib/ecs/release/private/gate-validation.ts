import { Duration } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { duplicatesOf, invalidProp, requireDurationInRange, requireIntegerInRange } from '../../../private/validation';
import type { MigrationGateProps } from '../migration-gate';

/** Longest execution of a Standard state machine (one year). */
export const MAX_EXECUTION = Duration.days(365);

/** Validates the props of a MigrationGate before any child exists; returns the migration container. */
export function validateGateProps(scope: Construct, props: MigrationGateProps): ecs.ContainerDefinition {
  if (!props.services || props.services.length === 0) {
    invalidProp(scope, 'services', props.services ?? [], 'must list at least one application service', 'Pass the services the release deploys after the migration.');
  }
  const servicePaths = props.services.map((s) => s.node.path);
  const dup = duplicatesOf(servicePaths);
  if (dup.length > 0) {
    invalidProp(scope, 'services', dup, 'lists the same service more than once', 'List each service once.');
  }
  const container = props.container ?? props.taskDefinition.defaultContainer;
  if (!container) {
    invalidProp(scope, 'taskDefinition', props.taskDefinition.node.path, 'has no container', 'Add a container to the task definition or pass container.');
  }
  if (container.taskDefinition !== props.taskDefinition) {
    invalidProp(scope, 'container', container.node.path, 'does not belong to taskDefinition', 'Pass a container of the migration task definition.');
  }
  if (props.command !== undefined && (props.command.length === 0 || props.command.some((c) => c === ''))) {
    invalidProp(scope, 'command', props.command, 'must be a non-empty list of non-empty arguments', "Pass e.g. ['bin/rails', 'db:migrate'].");
  }
  requireDurationInRange(scope, 'migrationTimeout', props.migrationTimeout, Duration.minutes(1), MAX_EXECUTION, { maxReason: 'the longest Step Functions Standard execution' });
  requireDurationInRange(scope, 'stabilityCheckInterval', props.stabilityCheckInterval, Duration.seconds(5), Duration.hours(1), { maxReason: 'an hour between checks' });
  requireDurationInRange(scope, 'capacityRetryInterval', props.capacityRetryInterval, Duration.seconds(1), Duration.minutes(5), { maxReason: 'the 5-minute retry delay cap' });
  requireIntegerInRange(scope, 'capacityRetryAttempts', props.capacityRetryAttempts, 0, 20);
  requireIntegerInRange(scope, 'maxStabilityChecks', props.maxStabilityChecks, 1, 1000);
  if (props.imageTagPattern !== undefined) {
    if (!props.repository) {
      invalidProp(scope, 'imageTagPattern', props.imageTagPattern, 'is only used with repository', 'Pass repository, or drop imageTagPattern.');
    }
    // ECR tags: letters, digits, '_', '.', '-' (up to 128); '*' is the EventBridge wildcard.
    if (!/^[A-Za-z0-9_.*-]{1,128}$/.test(props.imageTagPattern)) {
      invalidProp(scope, 'imageTagPattern', props.imageTagPattern, 'is not an image tag pattern', "Use tag characters (letters, digits, '_', '.', '-') and '*' as the wildcard, e.g. 'release-*'.");
    }
  }
  return container;
}

/** Execution timeout: migration (with capacity retries) + every deployment check, with an hour of margin. */
export function executionTimeout(migration: Duration, retries: number, interval: Duration, checks: number): Duration {
  const seconds = migration.toSeconds() * (retries + 1) + 300 * retries + interval.toSeconds() * (checks + 1) + 3600;
  return Duration.seconds(Math.min(seconds, MAX_EXECUTION.toSeconds()));
}
