import { Duration } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { logLocationExpression } from './logs';

/** What the migration states need from the gate's props. */
export interface MigrationStatesOptions {
  readonly cluster: ecs.ICluster;
  readonly taskDefinition: ecs.TaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly command: string[];
  readonly launchTarget: tasks.IEcsLaunchTarget;
  readonly subnets?: ec2.SubnetSelection;
  readonly securityGroups?: ec2.ISecurityGroup[];
  readonly migrationTimeout: Duration;
  readonly capacityError: string;
  readonly capacityRetryAttempts: number;
  readonly capacityRetryInterval: Duration;
  /** Where every failure goes once `$.failure = { error, message }` is filled. */
  readonly failureTail: sfn.IChainable;
}

/** The migration task and the states describing its failures, before the exit code is judged. */
export interface MigrationStates {
  readonly runMigration: tasks.EcsRunTask;
  readonly exitFailure: sfn.IChainable;
  readonly noExitCodeFailure: sfn.IChainable;
}

/**
 * The one-off migration task and every way it can fail: not placed (capacity), timed out, exited
 * non-zero, or stopped without an exit code. Each failure fills `$.failure` and goes to the
 * failure tail. Finish with {@link judgeMigration}.
 */
export function migrationStates(scope: Construct, options: MigrationStatesOptions): MigrationStates {
  const { container, migrationTimeout, capacityRetryAttempts, failureTail } = options;
  const runMigration = new tasks.EcsRunTask(scope, 'RunMigration', {
    stateName: 'Run migration task',
    integrationPattern: sfn.IntegrationPattern.RUN_JOB,
    cluster: options.cluster,
    taskDefinition: options.taskDefinition,
    launchTarget: options.launchTarget,
    subnets: options.subnets,
    securityGroups: options.securityGroups,
    containerOverrides: [{ containerDefinition: container, command: options.command }],
    taskTimeout: sfn.Timeout.duration(migrationTimeout),
    resultSelector: taskSummary('$', container.containerName),
    resultPath: '$.migration',
  });
  if (capacityRetryAttempts > 0) {
    runMigration.addRetry({
      errors: [options.capacityError],
      maxAttempts: capacityRetryAttempts,
      interval: options.capacityRetryInterval,
      backoffRate: 2,
      maxDelay: Duration.minutes(5),
    });
  }

  const logLocation = logLocationExpression(container, '$.migration.TaskArn');
  const exitFailure = new sfn.Pass(scope, 'DescribeExitFailure', {
    stateName: 'Describe migration exit',
    parameters: {
      error: 'MigrationFailed',
      'message.$': `States.Format('Migration task {} exited with code {}: {}. Logs: {}. The services were not updated.', $.migration.TaskArn, $.migration.Containers[0].ExitCode, $.migration.StoppedReason, ${logLocation})`,
    },
    resultPath: '$.failure',
  }).next(failureTail);
  const noExitCodeFailure = new sfn.Pass(scope, 'DescribeStartFailure', {
    stateName: 'Describe migration start failure',
    parameters: {
      error: 'MigrationFailed',
      'message.$': `States.Format('Migration task {} stopped without an exit code of container ${container.containerName}: {}. Logs: {}. The services were not updated.', $.migration.TaskArn, $.migration.StoppedReason, ${logLocation})`,
    },
    resultPath: '$.failure',
  }).next(failureTail);
  const describeStoppedTask = new sfn.Choice(scope, 'ExitCodeKnown', { stateName: 'Exit code known?' })
    .when(sfn.Condition.isPresent('$.migration.Containers[0].ExitCode'), exitFailure)
    .otherwise(noExitCodeFailure);

  // A container exiting non-zero fails a .sync RunTask with States.TaskFailed and the stopped task
  // as JSON in Cause; read it so the failure names the exit code like the success path does.
  const readStoppedTask = new sfn.Pass(scope, 'ReadStoppedTask', {
    stateName: 'Read stopped task',
    parameters: { 'task.$': 'States.StringToJson($.error.Cause)' },
    resultPath: '$.stopped',
  }).next(new sfn.Pass(scope, 'SummarizeStoppedTask', {
    stateName: 'Summarize stopped task',
    parameters: taskSummary('$.stopped.task', container.containerName),
    resultPath: '$.migration',
  })).next(describeStoppedTask);
  const otherFailure = new sfn.Pass(scope, 'DescribeTaskError', {
    stateName: 'Describe migration error',
    parameters: {
      'error.$': '$.error.Error',
      'message.$': "States.Format('Migration task failed ({}): {}. The services were not updated.', $.error.Error, $.error.Cause)",
    },
    resultPath: '$.failure',
  }).next(failureTail);
  const taskFailed = new sfn.Choice(scope, 'StoppedTaskInCause', { stateName: 'Stopped task in cause?' })
    .when(sfn.Condition.and(
      sfn.Condition.stringEquals('$.error.Error', 'States.TaskFailed'),
      sfn.Condition.stringMatches('$.error.Cause', '{*'),
    ), readStoppedTask)
    .otherwise(otherFailure);
  const timedOut = new sfn.Pass(scope, 'DescribeTimeout', {
    stateName: 'Describe migration timeout',
    parameters: {
      error: 'MigrationTimedOut',
      message: `Migration task did not stop within ${migrationTimeout.toHumanString()}. The services were not updated.`,
    },
    resultPath: '$.failure',
  }).next(failureTail);
  const notPlaced = new sfn.Pass(scope, 'DescribeNoCapacity', {
    stateName: 'Describe missing capacity',
    parameters: {
      error: 'MigrationNotPlaced',
      'message.$': `States.Format('Migration task could not be placed on the utility cluster after ${capacityRetryAttempts + 1} attempts: {}. The services were not updated.', $.error.Cause)`,
    },
    resultPath: '$.failure',
  }).next(failureTail);
  runMigration.addCatch(notPlaced, { errors: [options.capacityError], resultPath: '$.error' });
  runMigration.addCatch(timedOut, { errors: [sfn.Errors.TIMEOUT], resultPath: '$.error' });
  runMigration.addCatch(taskFailed, { errors: [sfn.Errors.ALL], resultPath: '$.error' });
  return { runMigration, exitFailure, noExitCodeFailure };
}

/** Only exit 0 of the migration container goes on to `onSuccess`; the chain starts at the migration task. */
export function judgeMigration(scope: Construct, states: MigrationStates, onSuccess: sfn.IChainable): sfn.IChainable {
  const { runMigration, exitFailure, noExitCodeFailure } = states;
  // Rules are tried in order, so the comparison only ever sees an exit code that is present
  // (a missing variable in a comparison is a run-time error in Step Functions).
  const migrationOk = new sfn.Choice(scope, 'MigrationSucceeded', { stateName: 'Migration exited 0?' })
    .when(sfn.Condition.not(sfn.Condition.isPresent('$.migration.Containers[0].ExitCode')), noExitCodeFailure)
    .when(sfn.Condition.numberEquals('$.migration.Containers[0].ExitCode', 0), onSuccess)
    .otherwise(exitFailure);
  return runMigration.next(migrationOk);
}

/** The fields of a stopped ECS task the gate reads, as a ResultSelector / Parameters block. */
function taskSummary(root: string, containerName: string): { [key: string]: string } {
  return {
    'TaskArn.$': `${root}.TaskArn`,
    'StoppedReason.$': `${root}.StoppedReason`,
    'Containers.$': `${root}.Containers[?(@.Name == '${containerName}')]`,
  };
}
