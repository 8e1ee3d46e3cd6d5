import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { MigrationGate, MigrationGateProps } from '../../../lib/ecs/release';
import { releaseFixture, ReleaseFixture } from './fixtures';
import { aslOf, Handlers, runLocally, stepError } from './local-sfn';

/* eslint-disable @typescript-eslint/no-explicit-any */

const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/utility/0123456789abcdef';

function stoppedTask(exitCode: number | undefined, stoppedReason = 'Essential container in task exited'): any {
  return {
    TaskArn: TASK_ARN,
    LastStatus: 'STOPPED',
    StoppedReason: stoppedReason,
    Containers: [
      { Name: 'sidecar', ExitCode: 0 },
      exitCode === undefined ? { Name: 'rails' } : { Name: 'rails', ExitCode: exitCode },
    ],
  };
}

/** ECS stand-ins: records UpdateService calls and SNS messages; deployments become stable on the second check. */
function ecsDouble(migration: (input: any) => any, describe?: (service: string, check: number) => any) {
  const updates: any[] = [];
  const notifications: any[] = [];
  const checks: Record<string, number> = {};
  const handlers: Handlers = {
    'Run migration task': migration,
    'Update service': (input) => {
      updates.push(input);
      return { Service: { Deployments: [{ Id: `ecs-svc/new-${input.Service}`, Status: 'PRIMARY' }, { Id: 'ecs-svc/old', Status: 'ACTIVE' }] } };
    },
    'Describe service': (input) => {
      const service = input.Services[0];
      checks[service] = (checks[service] ?? 0) + 1;
      if (describe) return describe(service, checks[service]);
      const done = checks[service] >= 2;
      return {
        Services: [{
          Deployments: done
            ? [{ Id: `ecs-svc/new-${service}`, Status: 'PRIMARY' }]
            : [{ Id: `ecs-svc/new-${service}`, Status: 'PRIMARY' }, { Id: 'ecs-svc/old', Status: 'ACTIVE' }],
          RunningCount: done ? 2 : 1,
          DesiredCount: 2,
        }],
      };
    },
    'Notify success': (input) => { notifications.push(input); return {}; },
    'Notify failure': (input) => { notifications.push(input); return {}; },
  };
  return { handlers, updates, notifications, checks };
}

function gate(f: ReleaseFixture, props: Partial<MigrationGateProps> = {}): MigrationGate {
  return new MigrationGate(f.stack, 'Gate', {
    cluster: f.utilityCluster,
    taskDefinition: f.taskDefinition,
    services: [f.web, f.worker],
    repository: f.repository,
    imageTagPattern: 'release-*',
    notificationTopic: f.topic,
    ...props,
  });
}

describe('MigrationGate state machine, executed locally', () => {
  let definition: any;
  beforeAll(() => {
    const f = releaseFixture();
    definition = aslOf(f.stack, gate(f, { maxStabilityChecks: 5 }).stateMachine);
  });

  test('a migration that exits 0 updates every service and waits until each deployment is stable', async () => {
    // GIVEN
    const ecsApi = ecsDouble(() => stoppedTask(0));
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(run.error).toBeUndefined();
    expect(ecsApi.updates).toEqual(expect.arrayContaining([
      { Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/app', Service: 'web', ForceNewDeployment: true },
      { Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/app', Service: 'worker', ForceNewDeployment: true },
    ]));
    expect(ecsApi.updates).toHaveLength(2);
    expect(ecsApi.checks).toEqual({ web: 2, worker: 2 });
    expect(ecsApi.notifications).toEqual([expect.objectContaining({ Message: expect.objectContaining({ result: 'SUCCEEDED' }) })]);
  });

  test('a migration container that exits non-zero fails the release with its exit code and never updates a service', async () => {
    // GIVEN: the .sync integration fails the state with the stopped task as JSON in Cause
    const ecsApi = ecsDouble(() => { throw stepError('States.TaskFailed', JSON.stringify(stoppedTask(1))); });
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(ecsApi.updates).toEqual([]);
    expect(run.entered).not.toContain('Update service');
    expect(run.error?.name).toBe('MigrationFailed');
    expect(run.error?.cause).toContain(`Migration task ${TASK_ARN} exited with code 1: Essential container in task exited.`);
    expect(run.error?.cause).toContain('Logs: CloudWatch Logs group ref-AppLogsC5DF83A6 stream app/rails/0123456789abcdef.');
    expect(ecsApi.notifications).toEqual([expect.objectContaining({
      Message: expect.objectContaining({ result: 'FAILED', error: 'MigrationFailed', message: expect.stringContaining('exited with code 1') }),
    })]);
  });

  test('a stopped task reporting a non-zero exit code without a state error also fails before any UpdateService', async () => {
    // GIVEN
    const ecsApi = ecsDouble(() => stoppedTask(3));
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(ecsApi.updates).toEqual([]);
    expect(run.error?.name).toBe('MigrationFailed');
    expect(run.error?.cause).toContain('exited with code 3');
  });

  test('a migration container that never started fails with the stopped reason', async () => {
    // GIVEN
    const ecsApi = ecsDouble(() => stoppedTask(undefined, 'CannotPullContainerError: pull access denied'));
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(ecsApi.updates).toEqual([]);
    expect(run.error?.name).toBe('MigrationFailed');
    expect(run.error?.cause).toContain('stopped without an exit code of container rails: CannotPullContainerError');
  });

  test('a migration that outlives its timeout fails the release and never updates a service', async () => {
    // GIVEN: the definition with a 1-second task timeout and a task that takes longer
    const short = JSON.parse(JSON.stringify(definition));
    short.States['Run migration task'].TimeoutSeconds = 1;
    const ecsApi = ecsDouble(() => new Promise((resolve) => setTimeout(() => resolve(stoppedTask(0)), 3000).unref()));
    // WHEN
    const run = await runLocally(short, {}, ecsApi.handlers);
    // THEN
    expect(ecsApi.updates).toEqual([]);
    expect(run.error?.name).toBe('MigrationTimedOut');
    expect(run.error?.cause).toBe('Migration task did not stop within 30 minutes. The services were not updated.');
  });

  test('a capacity error is retried and the release goes on once the task is placed', async () => {
    // GIVEN: two placement failures, then a successful task
    let attempts = 0;
    const ecsApi = ecsDouble(() => {
      attempts += 1;
      if (attempts <= 2) throw stepError('ECS.AmazonECSException', 'RESOURCE:MEMORY');
      return stoppedTask(0);
    });
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(run.error).toBeUndefined();
    expect(attempts).toBe(3);
    expect(ecsApi.updates).toHaveLength(2);
  });

  test('capacity errors beyond the retry budget fail the release as not placed', async () => {
    // GIVEN
    let attempts = 0;
    const ecsApi = ecsDouble(() => { attempts += 1; throw stepError('ECS.AmazonECSException', 'RESOURCE:MEMORY'); });
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(attempts).toBe(6);
    expect(ecsApi.updates).toEqual([]);
    expect(run.error?.name).toBe('MigrationNotPlaced');
    expect(run.error?.cause).toContain('after 6 attempts: RESOURCE:MEMORY');
  });

  test('a failed task is not retried', async () => {
    // GIVEN
    let attempts = 0;
    const ecsApi = ecsDouble(() => { attempts += 1; throw stepError('States.TaskFailed', JSON.stringify(stoppedTask(2))); });
    // WHEN
    await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(attempts).toBe(1);
  });

  test('a deployment that never settles fails after the bounded number of checks', async () => {
    // GIVEN: two deployments forever
    const ecsApi = ecsDouble(() => stoppedTask(0), (service) => ({
      Services: [{ Deployments: [{ Id: `ecs-svc/new-${service}`, Status: 'PRIMARY' }, { Id: 'ecs-svc/old', Status: 'ACTIVE' }], RunningCount: 1, DesiredCount: 2 }],
    }));
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(ecsApi.checks).toEqual({ web: 5, worker: 5 });
    expect(run.error?.name).toBe('DeploymentNotStable');
    expect(run.error?.cause).toMatch(/did not reach a steady state after 5 checks 30 seconds apart \(1 of 2 tasks running, 2 deployments\)/);
  });

  test('a deployment rolled back by the circuit breaker fails the release', async () => {
    // GIVEN: the primary deployment is no longer the one the release started
    const ecsApi = ecsDouble(() => stoppedTask(0), () => ({
      Services: [{ Deployments: [{ Id: 'ecs-svc/rollback', Status: 'PRIMARY' }], RunningCount: 2, DesiredCount: 2 }],
    }));
    // WHEN
    const run = await runLocally(definition, {}, ecsApi.handlers);
    // THEN
    expect(run.error?.name).toBe('DeploymentRolledBack');
    expect(run.error?.cause).toContain('no longer the primary one');
  });
});

test('with a fluentd log driver, the failure names the driver, the tag, the container and the task', async () => {
  // GIVEN a migration container that logs through fluentd
  const f = releaseFixture();
  const td = new ecs.Ec2TaskDefinition(f.stack, 'FluentdTask');
  td.addContainer('app', {
    image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.3'),
    memoryReservationMiB: 512,
    logging: ecs.LogDrivers.fluentd({ tag: 'job' }),
  });
  const definition = aslOf(f.stack, gate(f, { taskDefinition: td }).stateMachine);
  const failed = { ...stoppedTask(1), Containers: [{ Name: 'app', ExitCode: 1 }] };
  // WHEN
  const run = await runLocally(definition, {}, ecsDouble(() => { throw stepError('States.TaskFailed', JSON.stringify(failed)); }).handlers);
  // THEN
  expect(run.error?.cause).toContain('Logs: fluentd log driver with tag job, container app, task 0123456789abcdef.');
});

describe('MigrationGate resources', () => {
  let template: Template;
  let f: ReleaseFixture;
  beforeAll(() => {
    f = releaseFixture();
    gate(f);
    template = Template.fromStack(f.stack);
  });

  test('iam:PassRole is limited to the migration task roles', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => [s.Action].flat().includes('iam:PassRole'));
    expect(statements).toHaveLength(1);
    expect(statements[0].Resource).toEqual([
      { 'Fn::GetAtt': [f.stack.getLogicalId(f.taskDefinition.executionRole!.node.defaultChild as any), 'Arn'] },
      { 'Fn::GetAtt': [f.stack.getLogicalId(f.taskDefinition.taskRole.node.defaultChild as any), 'Arn'] },
    ]);
  });

  test('ecs:UpdateService is limited to the listed services', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
          Effect: 'Allow',
          Resource: ['arn:aws:ecs:us-east-1:123456789012:service/app/web', 'arn:aws:ecs:us-east-1:123456789012:service/app/worker'],
        }]),
      },
    });
  });

  test('an ECR push with a matching tag starts the state machine', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ecr'],
        'detail-type': ['ECR Image Action'],
        'detail': { 'action-type': ['PUSH'], 'result': ['SUCCESS'], 'repository-name': ['rails-app'], 'image-tag': [{ wildcard: 'release-*' }] },
      },
      Targets: [Match.objectLike({ Arn: { Ref: Match.stringLikeRegexp('^Gate') }, DeadLetterConfig: Match.anyValue() })],
    });
  });

  test('success and failure are published to the SNS topic', () => {
    const definition = aslOf(f.stack, f.stack.node.findChild('Gate').node.findChild('Resource'));
    for (const state of ['Notify success', 'Notify failure']) {
      expect(definition.States[state]).toMatchObject({
        Resource: 'arn:aws:states:::sns:publish',
        Parameters: { TopicArn: `ref-${f.stack.getLogicalId(f.topic.node.defaultChild as any)}` },
      });
    }
  });

  test('the migration retries only capacity errors, with a timeout', () => {
    const definition = aslOf(f.stack, f.stack.node.findChild('Gate').node.findChild('Resource'));
    expect(definition.States['Run migration task']).toMatchObject({
      Resource: 'arn:aws:states:::ecs:runTask.sync',
      TimeoutSeconds: 1800,
      Retry: [{ ErrorEquals: ['ECS.AmazonECSException'], MaxAttempts: 5 }],
      Parameters: { Overrides: { ContainerOverrides: [{ Name: 'rails', Command: ['sh', '-c', 'bin/rails assets:precompile && bin/rails db:migrate'] }] } },
    });
  });

  test('executions are logged at level ALL to a KMS-encrypted log group, with X-Ray tracing', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: true }),
    });
    template.hasResourceProperties('AWS::Logs::LogGroup', { KmsKeyId: Match.anyValue(), RetentionInDays: 365 });
  });
});

describe('MigrationGate props', () => {
  test('fails when the service list is empty', () => {
    const f = releaseFixture();
    expect(() => gate(f, { services: [] })).toThrow(/ReleaseStack\/Gate: services \(\[\]\) must list at least one application service/);
  });

  test('fails when a service is listed twice', () => {
    const f = releaseFixture();
    expect(() => gate(f, { services: [f.web, f.web] })).toThrow(/services \(\["ReleaseStack\/Web"\]\) lists the same service more than once/);
  });

  test('fails when the migration timeout exceeds the Step Functions execution limit', () => {
    const f = releaseFixture();
    expect(() => gate(f, { migrationTimeout: Duration.days(400) })).toThrow(/migrationTimeout \("400 days"\) exceeds 365 days \(the longest Step Functions Standard execution\)/);
  });

  test('fails when the image tag pattern has characters a tag cannot have', () => {
    const f = releaseFixture();
    expect(() => gate(f, { imageTagPattern: 'release/*' })).toThrow(/imageTagPattern \("release\/\*"\) is not an image tag pattern/);
  });

  test('fails when an image tag pattern is given without a repository', () => {
    const f = releaseFixture();
    expect(() => gate(f, { repository: undefined })).toThrow(/imageTagPattern \("release-\*"\) is only used with repository/);
  });

  test('fails when the container belongs to another task definition', () => {
    const f = releaseFixture();
    const other = new ecs.Ec2TaskDefinition(f.stack, 'Other');
    const c = other.addContainer('x', { image: ecs.ContainerImage.fromRegistry('x'), memoryReservationMiB: 64 });
    expect(() => gate(f, { container: c })).toThrow(/container \("ReleaseStack\/Other\/x"\) does not belong to taskDefinition/);
  });

  test('fails when the number of stability checks is not bounded sensibly', () => {
    const f = releaseFixture();
    expect(() => gate(f, { maxStabilityChecks: 0 })).toThrow(/maxStabilityChecks \(0\) must be a whole number from 1 to 1000/);
  });

  test('fails when the capacity retry attempts exceed 20', () => {
    const f = releaseFixture();
    expect(() => gate(f, { capacityRetryAttempts: 50 })).toThrow(/capacityRetryAttempts \(50\) must be a whole number from 0 to 20/);
  });
});
