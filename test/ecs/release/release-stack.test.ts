import { Template } from 'aws-cdk-lib/assertions';
import * as scheduler from 'aws-cdk-lib/aws-scheduler';
import { MigrationGate, ScheduledBatchJob } from '../../../lib/ecs/release';
import { nagFindings } from '../../support/app';
import { cfnLintFindings } from '../../support/cfn-lint';
import { releaseFixture, ReleaseFixture } from './fixtures';

describe('a stack with every release construct', () => {
  let f: ReleaseFixture;
  beforeAll(() => {
    // GIVEN the gate with every option and two batch jobs, one skipping overlapping runs
    f = releaseFixture();
    new MigrationGate(f.stack, 'Gate', {
      cluster: f.utilityCluster,
      taskDefinition: f.taskDefinition,
      services: [f.web, f.worker],
      repository: f.repository,
      imageTagPattern: 'release-*',
      notificationTopic: f.topic,
    });
    new ScheduledBatchJob(f.stack, 'DailyReport', {
      cluster: f.utilityCluster,
      taskDefinition: f.taskDefinition,
      command: ['bin/rails', 'reports:daily'],
      schedule: scheduler.ScheduleExpression.expression('cron(0 3 * * ? *)'),
    });
    new ScheduledBatchJob(f.stack, 'SessionCleanup', {
      cluster: f.utilityCluster,
      taskDefinition: f.taskDefinition,
      command: ['bin/rails', 'sessions:trim'],
      schedule: scheduler.ScheduleExpression.expression('rate(15 minutes)'),
      skipIfRunning: false,
    });
  });

  test('cdk-nag finds nothing', () => {
    expect(nagFindings(f.stack)).toEqual([]);
  });

  test('cfn-lint finds nothing', () => {
    expect(cfnLintFindings(f.stack)).toEqual([]);
  });

  test('creates one state machine per construct and two schedules', () => {
    const template = Template.fromStack(f.stack);
    template.resourceCountIs('AWS::StepFunctions::StateMachine', 3);
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
  });
});
