import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { RailsOnEcsStack } from '../../../examples/rails-on-ecs/rails-on-ecs-stack';
import { MigrationGate, ScheduledBatchJob } from '../../../lib/ecs/release';
import { nagFindings, testApp } from '../../support/app';

/* eslint-disable @typescript-eslint/no-explicit-any */

const RELEASE_IDS = ['Release', 'ReleaseNotifications', 'ReleaseNotificationsKey', 'AppRepository', 'MigrationTask', 'DailyReport', 'SessionCleanup'];

describe('the release flow of the rails-on-ecs example', () => {
  let stack: RailsOnEcsStack;
  let template: Template;
  beforeAll(() => {
    stack = new RailsOnEcsStack(testApp(), 'RailsOnEcs');
    template = Template.fromStack(stack);
  });

  test('the stack adds the gate and two batch jobs (addReleaseFlow)', () => {
    expect(stack.node.tryFindChild('Release')).toBeInstanceOf(MigrationGate);
    expect(stack.node.tryFindChild('DailyReport')).toBeInstanceOf(ScheduledBatchJob);
    expect(stack.node.tryFindChild('SessionCleanup')).toBeInstanceOf(ScheduledBatchJob);
  });

  const logicalIdOf = (c: any) => Stack.of(c).getLogicalId(c.node.defaultChild);

  test('the gate redeploys exactly the web and worker services', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([{
          Action: ['ecs:DescribeServices', 'ecs:UpdateService'],
          Effect: 'Allow',
          Resource: [{ Ref: logicalIdOf(stack.webService) }, { Ref: logicalIdOf(stack.workerService) }],
        }]),
      },
    });
  });

  /** The resolved Image of a task definition's `app` container. */
  const appImageOf = (taskDefinition: any) => {
    const resource = template.toJSON().Resources[logicalIdOf(taskDefinition)];
    return JSON.stringify(resource.Properties.ContainerDefinitions.find((c: any) => c.Name === 'app').Image);
  };

  test('one artifact: web, worker and batch jobs run :live of the repository the gate listens to, the migration runs :migrating', () => {
    expect(appImageOf(stack.webTaskDefinition)).toMatch(/\/rails-on-ecs\/app:live"/);
    expect(appImageOf(stack.workerTaskDefinition)).toMatch(/\/rails-on-ecs\/app:live"/);
    const migration = stack.node.findChild('MigrationTask');
    expect(appImageOf(migration)).toMatch(/\/rails-on-ecs\/app:migrating"/);
  });

  test('the gate records the live digest in an SSM parameter', () => {
    const gate = stack.node.findChild('Release') as MigrationGate;
    template.hasResourceProperties('AWS::SSM::Parameter', { Type: 'String', Value: 'none' });
    expect(logicalIdOf(gate.liveDigestParameter)).toMatch(/^ReleaseLiveDigest/);
  });

  test('a release-* push to the application repository starts the gate', () => {
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({
        detail: Match.objectLike({ 'repository-name': ['rails-on-ecs/app'], 'image-tag': [{ wildcard: 'release-*' }] }),
      }),
    });
  });

  test('two batch jobs run on the utility cluster, the nightly one in Tokyo time', () => {
    template.resourceCountIs('AWS::Scheduler::Schedule', 2);
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'cron(0 3 * * ? *)',
      ScheduleExpressionTimezone: 'Asia/Tokyo',
      FlexibleTimeWindow: { Mode: 'FLEXIBLE', MaximumWindowInMinutes: 15 },
    });
    template.hasResourceProperties('AWS::Scheduler::Schedule', {
      ScheduleExpression: 'rate(15 minutes)',
      FlexibleTimeWindow: { Mode: 'OFF' },
    });
  });

  // cfn-lint of the whole example template is the npm test gate's job (and release-stack.test.ts
  // lints every release construct); linting it again here would double the slowest step.
  test('cdk-nag finds nothing in the release resources', () => {
    const mine = (path: string) => RELEASE_IDS.some((id) => path.startsWith(`RailsOnEcs/${id}/`) || path === `RailsOnEcs/${id}`);
    const findings = nagFindings(stack);
    expect(findings.filter((f) => mine(f.constructPath))).toEqual([]);
  });
});
