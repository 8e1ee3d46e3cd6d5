import { Aws, Duration } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';

/*
 * The states that make a release one artifact: the input names an image digest; the release waits
 * until it is the oldest running execution (releases never interleave); the digest gets the
 * migration tag before the migration and the live tag only after it exited 0; the live digest is
 * recorded in an SSM parameter; a failed deployment puts the live tag back on the previous digest.
 */

/** Fills `$.failure` with a fixed error name and a message built by an intrinsic expression. */
export function describeFailure(scope: Construct, id: string, stateName: string, error: string, messageExpression: string): sfn.Pass {
  return new sfn.Pass(scope, id, {
    stateName,
    parameters: { error, 'message.$': messageExpression },
    resultPath: '$.failure',
  });
}

/**
 * Accepts only an input with `imageDigest: "sha256:..."` (the ECR push event gives it; a manual start
 * must give it too): the digest is the release, a tag could move while the release runs.
 */
export function checkInput(scope: Construct, rejected: sfn.IChainable, next: sfn.IChainable): sfn.Choice {
  const describe = new sfn.Pass(scope, 'DescribeBadInput', {
    stateName: 'Describe bad input',
    parameters: {
      error: 'InvalidReleaseInput',
      message: 'The execution input must name the image to release as imageDigest ("sha256:<64 hex digits>"), e.g. {"imageDigest": "sha256:..."}; nothing was changed.',
    },
    resultPath: '$.failure',
  }).next(rejected);
  return new sfn.Choice(scope, 'InputNamesDigest', { stateName: 'Input names a digest?' })
    .when(sfn.Condition.and(
      sfn.Condition.isPresent('$.imageDigest'),
      sfn.Condition.isString('$.imageDigest'),
      sfn.Condition.stringMatches('$.imageDigest', 'sha256:*'),
    ), next)
    .otherwise(describe);
}

/**
 * Waits until this execution is the oldest running one of its state machine, so releases run one
 * at a time in the order they started (the push that came first is released first; the last push
 * ends live). ListExecutions returns the newest execution first, so the oldest is the last item;
 * an execution not yet listed (eventual consistency) just waits another round.
 */
export function waitForTurn(scope: Construct, interval: Duration, next: sfn.IChainable): sfn.IChainable {
  // A CustomState (its name is its id): CallAwsService would grant ListExecutions on this state
  // machine in the role's default policy, which the state machine depends on (a cycle).
  const list = new sfn.CustomState(scope, 'ListRunningReleases', {
    stateJson: {
      Type: 'Task',
      Resource: `arn:${Aws.PARTITION}:states:::aws-sdk:sfn:listExecutions`,
      Parameters: { 'StateMachineArn.$': '$$.StateMachine.Id', StatusFilter: 'RUNNING', MaxResults: 1000 },
      ResultSelector: { 'count.$': 'States.ArrayLength($.Executions)', 'executions.$': '$.Executions' },
      ResultPath: '$.queue',
    },
  });
  const wait = new sfn.Wait(scope, 'WaitForTurn', { stateName: 'Wait for turn', time: sfn.WaitTime.duration(interval) });
  const oldest = new sfn.Pass(scope, 'FindOldestRelease', {
    stateName: 'Find oldest release',
    parameters: {
      'oldest.$': 'States.ArrayGetItem($.queue.executions, States.MathAdd($.queue.count, -1))',
      'self.$': '$$.Execution.Id',
    },
    resultPath: '$.queue',
  });
  const mine = new sfn.Choice(scope, 'OldestRelease', { stateName: 'Oldest running release?' })
    .when(sfn.Condition.stringEqualsJsonPath('$.queue.oldest.ExecutionArn', '$.queue.self'), next)
    .otherwise(wait);
  const listed = new sfn.Choice(scope, 'AnyRunning', { stateName: 'Any release listed?' })
    .when(sfn.Condition.numberGreaterThan('$.queue.count', 0), oldest.next(mine))
    .otherwise(wait);
  wait.next(list);
  list.next(listed);
  return list;
}

/** Reads the live digest (the previous release) into `$.previous.digest`. */
export function readLiveDigest(scope: Construct, parameter: ssm.IStringParameter): tasks.CallAwsService {
  return new tasks.CallAwsService(scope, 'ReadLiveDigest', {
    stateName: 'Read live digest',
    service: 'ssm',
    action: 'getParameter',
    iamAction: 'ssm:GetParameter',
    iamResources: [parameter.parameterArn],
    parameters: { Name: parameter.parameterName },
    resultSelector: { 'digest.$': '$.Parameter.Value' },
    resultPath: '$.previous',
  });
}

/** Records the released digest as live. */
export function recordLiveDigest(scope: Construct, parameter: ssm.IStringParameter): tasks.CallAwsService {
  return new tasks.CallAwsService(scope, 'RecordLiveDigest', {
    stateName: 'Record live digest',
    service: 'ssm',
    action: 'putParameter',
    iamAction: 'ssm:PutParameter',
    iamResources: [parameter.parameterArn],
    parameters: { Name: parameter.parameterName, 'Value.$': '$.imageDigest', Overwrite: true },
    resultPath: sfn.JsonPath.DISCARD,
  });
}

/** Options of {@link tagImage}. */
export interface TagImageOptions {
  readonly repository: ecr.IRepository;
  readonly tag: string;
  /** Path of the digest to tag. */
  readonly digestPath: string;
  /** Prefix of the construct ids and state names ("Tag migration image"). */
  readonly id: string;
  readonly stateName: string;
  /** Where a digest absent from the repository goes, with `$.failure` filled. */
  readonly missing: sfn.IChainable;
}

/**
 * Puts `tag` on the image with the given digest: BatchGetImage reads its manifest, PutImage writes
 * the same manifest under the tag (no pull, no push of layers). A tag already on that digest is
 * fine (ImageAlreadyExistsException).
 */
export function tagImage(scope: Construct, options: TagImageOptions, next: sfn.IChainable): sfn.IChainable {
  const { repository, tag, id, stateName } = options;
  const get = new tasks.CallAwsService(scope, `Get${id}`, {
    stateName: `Get ${stateName} manifest`,
    service: 'ecr',
    action: 'batchGetImage',
    iamAction: 'ecr:BatchGetImage',
    iamResources: [repository.repositoryArn],
    parameters: {
      RepositoryName: repository.repositoryName,
      ImageIds: [{ 'ImageDigest.$': options.digestPath }],
      AcceptedMediaTypes: [
        'application/vnd.docker.distribution.manifest.v2+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.oci.image.index.v1+json',
      ],
    },
    resultSelector: { 'images.$': '$.Images' },
    resultPath: '$.image',
  });
  const put = new tasks.CallAwsService(scope, `Put${id}`, {
    stateName: `Tag ${stateName}`,
    service: 'ecr',
    action: 'putImage',
    iamAction: 'ecr:PutImage',
    iamResources: [repository.repositoryArn],
    parameters: {
      RepositoryName: repository.repositoryName,
      'ImageManifest.$': '$.image.images[0].ImageManifest',
      'ImageManifestMediaType.$': '$.image.images[0].ImageManifestMediaType',
      'ImageDigest.$': options.digestPath,
      ImageTag: tag,
    },
    resultPath: sfn.JsonPath.DISCARD,
  });
  put.addCatch(next, { errors: ['Ecr.ImageAlreadyExistsException'], resultPath: sfn.JsonPath.DISCARD });
  const found = new sfn.Choice(scope, `${id}Found`, { stateName: `${stateName} in repository?` })
    .when(sfn.Condition.isPresent('$.image.images[0].ImageManifest'), put.next(next))
    .otherwise(options.missing);
  return get.next(found);
}

/**
 * After a failed deployment: the services' circuit breaker rolls their tasks back (ECS keeps the
 * previous deployment's resolved digest); the live tag goes back to the previous digest too, so a
 * scale-out or a later `cdk deploy` never starts the failed image. The schema is never rolled back
 * (expand/contract: every migration must work with the previous release).
 */
export function restoreLiveTag(scope: Construct, repository: ecr.IRepository, liveTag: string, services: ecs.IBaseService[], failureTail: sfn.IChainable): sfn.IChainable {
  const described = new sfn.Pass(scope, 'DescribeRestoredLiveTag', {
    stateName: 'Describe restored live tag',
    parameters: {
      'error.$': '$.failure.error',
      'message.$': `States.Format('{} The ${liveTag} tag is back on the previous release {} and every service got a new deployment of it; the database schema stays migrated.', $.failure.message, $.previous.digest)`,
    },
    resultPath: '$.failure',
  }).next(failureTail);
  // A deployment that is merely slow could still finish on the failed digest; a new deployment
  // (which resolves the restored live tag) replaces it, whatever the circuit breaker does.
  const rollBackMap = new sfn.Map(scope, 'RollBackServices', {
    stateName: 'Roll back services',
    itemsPath: '$.services',
    itemSelector: { 'cluster.$': '$$.Map.Item.Value.cluster', 'service.$': '$$.Map.Item.Value.service' },
    resultPath: sfn.JsonPath.DISCARD,
  });
  rollBackMap.itemProcessor(new tasks.CallAwsService(scope, 'RollBackService', {
    stateName: 'Roll back service',
    service: 'ecs',
    action: 'updateService',
    iamAction: 'ecs:UpdateService',
    iamResources: services.map((s) => s.serviceArn),
    parameters: { 'Cluster.$': '$.cluster', 'Service.$': '$.service', ForceNewDeployment: true },
    resultPath: sfn.JsonPath.DISCARD,
  }));
  const restored = rollBackMap.next(described);
  const restoreFailed = new sfn.Pass(scope, 'DescribeRestoreFailure', {
    stateName: 'Describe restore failure',
    parameters: {
      'error.$': '$.failure.error',
      'message.$': `States.Format('{} Putting the ${liveTag} tag back on {} or redeploying it failed as well: set the tag by hand and force a new deployment of each service.', $.failure.message, $.previous.digest)`,
    },
    resultPath: '$.failure',
  }).next(failureTail);
  const restore = tagImage(scope, {
    repository,
    tag: liveTag,
    digestPath: '$.previous.digest',
    id: 'PreviousImage',
    stateName: 'previous image',
    missing: restoreFailed,
  }, restored);
  rollBackMap.addCatch(restoreFailed, { errors: [sfn.Errors.ALL], resultPath: '$.restoreError' });
  for (const child of ['GetPreviousImage', 'PutPreviousImage']) {
    (scope.node.findChild(child) as tasks.CallAwsService).addCatch(restoreFailed, { errors: [sfn.Errors.ALL], resultPath: '$.restoreError' });
  }
  return new sfn.Choice(scope, 'PreviousReleaseKnown', { stateName: 'Previous release known?' })
    .when(sfn.Condition.stringMatches('$.previous.digest', 'sha256:*'), restore)
    .otherwise(failureTail);
}
