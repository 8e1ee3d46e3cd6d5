import { Duration, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { duplicatesOf, invalidProp, requireDurationInRange, requireIntegerInRange } from '../../../private/validation';
import type { MigrationGateProps } from '../migration-gate';

/** Longest execution of a Standard state machine (one year). */
export const MAX_EXECUTION = Duration.days(365);

/** Validates the props of a MigrationGate before any child exists; returns the migration container. */
export function validateGateProps(scope: Construct, props: MigrationGateProps, gateTags: [migration: string, live: string]): ecs.ContainerDefinition {
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
  requireDurationInRange(scope, 'queueCheckInterval', props.queueCheckInterval, Duration.seconds(5), Duration.minutes(10), { maxReason: 'ten minutes between looks at the queue' });
  requireIntegerInRange(scope, 'capacityRetryAttempts', props.capacityRetryAttempts, 0, 20);
  requireIntegerInRange(scope, 'maxStabilityChecks', props.maxStabilityChecks, 1, 1000);
  if (!props.repository) {
    invalidProp(scope, 'repository', props.repository, 'is required: a release is an image digest of this repository', 'Pass the application image repository.');
  }
  if (props.imageTagPattern !== undefined) {
    // ECR tags: letters, digits, '_', '.', '-' (up to 128); '*' is the EventBridge wildcard.
    if (!/^[A-Za-z0-9_.*-]{1,128}$/.test(props.imageTagPattern)) {
      invalidProp(scope, 'imageTagPattern', props.imageTagPattern, 'is not an image tag pattern', "Use tag characters (letters, digits, '_', '.', '-') and '*' as the wildcard, e.g. 'release-*'.");
    }
    const own = gateTags.filter((tag) => wildcardMatches(props.imageTagPattern!, tag));
    if (own.length > 0) {
      invalidProp(scope, 'imageTagPattern', props.imageTagPattern, `matches the tag(s) ${own.join(', ')} the gate itself puts on released images (each release would start another)`,
        "Use a pattern for the tags CI pushes, e.g. 'release-*'.");
    }
  }
  requireGateImages(scope, props, container, gateTags);
  return container;
}

/**
 * Execution timeout: twice one release (migration with capacity retries + every deployment check),
 * since a release may wait for one earlier release in the queue, with an hour of margin.
 */
export function executionTimeout(migration: Duration, retries: number, interval: Duration, checks: number): Duration {
  const oneRelease = migration.toSeconds() * (retries + 1) + 300 * retries + interval.toSeconds() * (checks + 1);
  const seconds = 2 * oneRelease + 3600;
  return Duration.seconds(Math.min(seconds, MAX_EXECUTION.toSeconds()));
}

/** EventBridge wildcard semantics: `*` matches any run of characters, everything else itself. */
export function wildcardMatches(pattern: string, value: string): boolean {
  const regex = new RegExp(`^${pattern.split('*').map((p) => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return regex.test(value);
}

/**
 * One artifact, no bypass: the migration container runs `<repository>:migrating` and every container
 * of a gated service that runs an image of the repository runs `<repository>:live` (only the gate
 * moves those tags). Services imported by ARN or name cannot be inspected here; the README says so.
 */
function requireGateImages(scope: Construct, props: MigrationGateProps, container: ecs.ContainerDefinition, [migrationTag, liveTag]: [string, string]): void {
  const stack = Stack.of(scope);
  const resolved = (v: unknown) => JSON.stringify(stack.resolve(v));
  // Any tag or digest of the repository: its resolved URI with the tag part as a wildcard.
  const anyTag = resolved(props.repository.repositoryUriForTag('ANY_TAG')).split(':ANY_TAG')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('[:@][^"]*');
  const ofRepository = new RegExp(`^${anyTag}$`);
  const imageOf = (c: ecs.ContainerDefinition) => resolved(c.imageName);
  if (imageOf(container) !== resolved(props.repository.repositoryUriForTag(migrationTag))) {
    invalidProp(scope, 'taskDefinition', container.node.path, `runs another image than ${props.repository.node.path}:${migrationTag}, so the migration would not run the released digest`,
      'Give the migration container image: MigrationGate.migrationImage(repository).');
  }
  for (const service of props.services) {
    if (!(service instanceof ecs.BaseService)) continue;
    const containers = service.taskDefinition.node.children.filter((c): c is ecs.ContainerDefinition => c instanceof ecs.ContainerDefinition);
    const fromRepository = containers.filter((c) => ofRepository.test(imageOf(c)));
    if (fromRepository.length === 0) {
      invalidProp(scope, 'services', service.node.path, `runs no image of ${props.repository.node.path}, so a release would not change it`,
        'Give its application container image: MigrationGate.liveImage(repository), or do not gate it.');
    }
    for (const c of fromRepository) {
      if (imageOf(c) !== resolved(props.repository.repositoryUriForTag(liveTag))) {
        invalidProp(scope, 'services', c.node.path, `runs an image of ${props.repository.node.path} other than :${liveTag}, so a cdk deploy could start it without its migration`,
          'Give the container image: MigrationGate.liveImage(repository); new images reach the services by a push, through the migration.');
      }
    }
  }
}
