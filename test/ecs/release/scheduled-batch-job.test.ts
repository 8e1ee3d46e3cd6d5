import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { ScheduledBatchJob, ScheduledBatchJobProps } from '../../../lib/ecs/release';
import { releaseFixture, ReleaseFixture } from './fixtures';
import { aslOf, runLocally } from './local-sfn';
import { acknowledgedControls } from '../support/fixtures';

/* eslint-disable @typescript-eslint/no-explicit-any */

function job(f: ReleaseFixture, props: Partial<ScheduledBatchJobProps> = {}, id = 'DailyReport'): ScheduledBatchJob {
  return new ScheduledBatchJob(f.stack, id, {
    cluster: f.utilityCluster,
    taskDefinition: f.taskDefinition,
    command: ['bin/rails', 'reports:daily'],
    schedule: scheduler.ScheduleExpression.cron({ minute: '0', hour: '3' }),
    ...props,
  });
}

describe('ScheduledBatchJob runner, executed locally', () => {
  let definition: any;
  beforeAll(() => {
    const f = releaseFixture();
    definition = aslOf(f.stack, job(f).runner);
  });

  function ecsDouble(running: string[]) {
    const runTasks: any[] = [];
    const listed: any[] = [];
    return {
      runTasks,
      listed,
      handlers: {
        ListRunningTasks: (input: any) => { listed.push(input); return { TaskArns: running }; },
        'Run task': (input: any) => { runTasks.push(input); return { Tasks: [{ TaskArn: 'arn:aws:ecs:us-east-1:123456789012:task/utility/1' }], Failures: [] }; },
      },
    };
  }

  test('starts the task with the command override and the job startedBy when no previous run is running', async () => {
    // GIVEN
    const ecsApi = ecsDouble([]);
    // WHEN
    const run = await runLocally(definition, { job: 'DailyReport' }, ecsApi.handlers);
    // THEN
    expect(run.error).toBeUndefined();
    expect(ecsApi.listed).toEqual([{ Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/utility', StartedBy: 'batch/DailyReport' }]);
    expect(ecsApi.runTasks).toEqual([expect.objectContaining({
      Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/utility',
      StartedBy: 'batch/DailyReport',
      Count: 1,
      Overrides: { ContainerOverrides: [{ Name: 'rails', Command: ['bin/rails', 'reports:daily'] }] },
    })]);
    expect(run.entered).toContain('Started');
  });

  test('skips the run while a task of the previous run is still running', async () => {
    // GIVEN
    const ecsApi = ecsDouble(['arn:aws:ecs:us-east-1:123456789012:task/utility/previous']);
    // WHEN
    const run = await runLocally(definition, { job: 'DailyReport' }, ecsApi.handlers);
    // THEN
    expect(run.error).toBeUndefined();
    expect(ecsApi.runTasks).toEqual([]);
    expect(run.entered).toContain('Skipped: previous run still running');
  });

  test('fails the run with the ECS failure reasons when no task could be placed', async () => {
    // GIVEN
    const handlers = {
      ListRunningTasks: () => ({ TaskArns: [] }),
      'Run task': () => ({ Tasks: [], Failures: [{ Arn: 'arn:aws:ecs:us-east-1:123456789012:container-instance/utility/i', Reason: 'RESOURCE:MEMORY' }] }),
    };
    // WHEN
    const run = await runLocally(definition, {}, handlers);
    // THEN
    expect(run.error?.name).toBe('BatchTaskNotStarted');
    expect(run.error?.cause).toContain('ECS did not start a task of batch job DailyReport');
    expect(run.error?.cause).toContain('RESOURCE:MEMORY');
  });

  test('without skipIfRunning, the runner starts the task without listing', () => {
    // GIVEN
    const f = releaseFixture();
    // WHEN
    const asl = aslOf(f.stack, job(f, { skipIfRunning: false }).runner);
    // THEN
    expect(asl.StartAt).toBe('Run task');
    expect(Object.keys(asl.States)).not.toContain('ListRunningTasks');
  });
});

describe('ScheduledBatchJob resources', () => {
  let f: ReleaseFixture;
  let template: Template;
  let dailyReport: ScheduledBatchJob;
  beforeAll(() => {
    f = releaseFixture();
    dailyReport = job(f);
    template = Template.fromStack(f.stack);
  });

  test('the dead-letter queue is exempt from having a dead-letter queue of its own (Control Tower CT.SQS.PR.1), and only from that', () => {
    expect(Object.keys(acknowledgedControls(dailyReport.deadLetterQueue))).toEqual(['sqs_dlq_check']);
  });

  test('the schedule starts the runner with a flexible window, a retry policy and a dead-letter queue', () => {
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 5 },
      State: 'ENABLED',
      Target: Match.objectLike({
        Arn: { Ref: Match.stringLikeRegexp('^DailyReportRunner') },
        RetryPolicy: { MaximumRetryAttempts: 3, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DailyReportDeadLetterQueue'), 'Arn'] } },
      }),
    });
  });

  test('the dead-letter queue is encrypted and refuses plain HTTP', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the runner may list tasks of the utility cluster only, and pass only the task roles to ECS', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual(expect.arrayContaining([
      { Action: 'ecs:ListTasks', Effect: 'Allow', Resource: '*', Condition: { ArnEquals: { 'ecs:cluster': 'arn:aws:ecs:us-east-1:123456789012:cluster/utility' } } },
      expect.objectContaining({ Action: 'iam:PassRole', Condition: { StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } } }),
    ]));
  });
});

describe('ScheduledBatchJob props', () => {
  test('fails when the schedule is not a valid expression', () => {
    const f = releaseFixture();
    expect(() => job(f, { schedule: scheduler.ScheduleExpression.expression('every day at 3') }))
      .toThrow(/ReleaseStack\/DailyReport: schedule \("every day at 3"\) is not a rate\(\), cron\(\) or at\(\) expression/);
  });

  test('fails when a cron expression has five fields', () => {
    const f = releaseFixture();
    expect(() => job(f, { schedule: scheduler.ScheduleExpression.expression('cron(0 3 * * *)') }))
      .toThrow(/schedule \("cron\(0 3 \* \* \*\)"\) has 5 cron fields, but Scheduler cron expressions have 6/);
  });

  test('fails when a rate uses a plural unit for 1', () => {
    const f = releaseFixture();
    expect(() => job(f, { schedule: scheduler.ScheduleExpression.expression('rate(1 hours)') }))
      .toThrow(/schedule \("rate\(1 hours\)"\) must use the singular unit/);
  });

  test('fails when the flexible window exceeds the Scheduler limit', () => {
    const f = releaseFixture();
    expect(() => job(f, { flexibleTimeWindow: Duration.hours(25) }))
      .toThrow(/flexibleTimeWindow \("1 day 1 hour"\) must be whole minutes from 0 \(off\) to 1440/);
  });

  test('fails when the retry attempts exceed the Scheduler limit', () => {
    const f = releaseFixture();
    expect(() => job(f, { retryAttempts: 200 })).toThrow(/retryAttempts \(200\) must be a whole number from 0 to 185/);
  });

  test('fails when the command is empty', () => {
    const f = releaseFixture();
    expect(() => job(f, { command: [] })).toThrow(/command \(\[\]\) must be a non-empty list/);
  });

  test('fails when the job name cannot be a startedBy value', () => {
    const f = releaseFixture();
    expect(() => job(f, { jobName: 'daily report' })).toThrow(/jobName \("daily report"\) must be 1 to 64 letters, digits/);
  });

  test('fails when an awsvpc task definition has no security groups', () => {
    const f = releaseFixture();
    const td = new ecs.Ec2TaskDefinition(f.stack, 'VpcTask', { networkMode: ecs.NetworkMode.AWS_VPC });
    td.addContainer('rails', { image: ecs.ContainerImage.fromRegistry('x'), memoryReservationMiB: 64 });
    expect(() => job(f, { taskDefinition: td })).toThrow(/securityGroups \(\[\]\) must be given for a task definition in awsvpc network mode/);
  });
});
