import { Duration, Size } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AppService, WatchedWorkerService, WorkerSignal, WorkerWatchdog, WorkerWatchdogProps } from '../../../lib';
import { scalingFixture, ScalingFixture } from './fixture';

function watchdog(props: Partial<WorkerWatchdogProps> = {}, worker: Partial<WatchedWorkerService> = {}, f: ScalingFixture = scalingFixture()) {
  const w = new WorkerWatchdog(f.stack, 'Watchdog', {
    services: [{ service: f.appService(), container: f.container, name: 'sidekiq', maxMemory: Size.mebibytes(1536), expectedWorkers: 2, ...worker }],
    autoScalingGroups: [f.asg],
    ...props,
  });
  return { ...f, watchdog: w, template: Template.fromStack(f.stack) };
}

function watchdogConfig(template: Template): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { WATCHDOG_CONFIG: Match.anyValue() } } } }))[0];
  const value = fn.Properties.Environment.Variables.WATCHDOG_CONFIG;
  // Cluster and service names are tokens: the value is an Fn::Join; the literal parts are enough here.
  return { raw: JSON.stringify(value) };
}

describe('defaults', () => {
  const { template } = watchdog();

  test('signals TSTP, waits two minutes, and recycles at most a quarter of a service', () => {
    const raw = watchdogConfig(template).raw as string;
    expect(raw).toContain('\\"signal\\":\\"TSTP\\"');
    expect(raw).toContain('\\"gracePeriodSeconds\\":120');
    expect(raw).toContain('\\"maxSignalledPercent\\":25');
    expect(raw).toContain('\\"container\\":\\"sidekiq\\"');
    expect(raw).toContain('\\"parameterPrefix\\":\\"/worker-watchdog/sidekiq\\"');
  });

  test('writes the limits given in props to Parameter Store', () => {
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/worker-watchdog/sidekiq/max-memory-mib', Value: '1536', Type: 'String' });
    template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/worker-watchdog/sidekiq/expected-workers', Value: '2' });
  });

  test('runs every minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  test('may run commands only on the group\'s instances, and stop only this cluster\'s tasks', () => {
    const statement = (s: object) => template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike(s)]) } });
    statement({ Action: 'ssm:SendCommand', Resource: 'arn:aws:ec2:us-east-1:123456789012:instance/*', Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': [{ Ref: Match.stringLikeRegexp('AsgASG') }] } } });
    statement({ Action: ['ecs:DescribeTasks', 'ecs:StopTask'], Condition: { ArnEquals: { 'ecs:cluster': [{ 'Fn::GetAtt': [Match.stringLikeRegexp('Cluster'), 'Arn'] }] } } });
    statement({ Action: 'ssm:PutParameter', Resource: 'arn:aws:ssm:us-east-1:123456789012:parameter/worker-watchdog/sidekiq/signalled' });
  });
});

describe('least privilege and single-flight', () => {
  const { template } = watchdog({ autoScalingGroups: undefined });
  const statements = () => Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement as Array<Record<string, unknown>>);

  test('signals through its own document, whose parameters admit one task, one container and only the configured signal', () => {
    template.hasResourceProperties('AWS::SSM::Document', {
      DocumentType: 'Command',
      Content: Match.objectLike({
        parameters: {
          taskArn: Match.objectLike({ allowedPattern: Match.stringLikeRegexp('task/') }),
          containerName: Match.objectLike({ allowedPattern: '^[a-zA-Z0-9_-]{1,255}$' }),
          signal: Match.objectLike({ allowedPattern: '^TSTP$' }),
        },
        mainSteps: [Match.objectLike({ action: 'aws:runShellScript', inputs: Match.objectLike({ runCommand: [Match.stringLikeRegexp('docker kill --signal=\\{\\{ signal \\}\\}')] }) })],
      }),
    });
    expect(JSON.stringify(template.toJSON())).not.toContain('AWS-RunShellScript');
  });

  test('may send only that document, and only to the instances of the group behind the service\'s capacity provider', () => {
    const send = statements().filter((st) => st.Action === 'ssm:SendCommand');
    expect(send).toHaveLength(2);
    expect(JSON.stringify(send[0].Resource)).toContain('document/');
    expect(JSON.stringify(send[0].Resource)).toContain(template.toJSON().Resources && Object.keys(template.findResources('AWS::SSM::Document'))[0]);
    expect(send[1]).toMatchObject({
      Resource: 'arn:aws:ec2:us-east-1:123456789012:instance/*',
      Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': [{ Ref: expect.stringMatching(/^AsgASG/) }] } },
    });
  });

  test('runs one invocation at a time and never replays a missed minute', () => {
    template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1, Environment: { Variables: { WATCHDOG_CONFIG: Match.anyValue() } } });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 });
  });

  test('passes the document name to the function', () => {
    expect(watchdogConfig(template).raw).toMatch(/signalDocument.*Ref.*WatchdogSignalDocument/);
  });
});

test('finds the groups of the cluster\'s capacity providers for a service without its own strategy', () => {
  const f = scalingFixture();
  const plain = new ecs.Ec2Service(f.stack, 'DefaultStrategyService', { cluster: f.cluster, taskDefinition: f.taskDefinition, minHealthyPercent: 100 });
  const service = AppService.fromServiceAttributes(f.stack, 'DefaultStrategyApp', { service: plain, container: f.container, scalableTaskCount: plain.autoScaleTaskCount({ maxCapacity: 4 }) });
  const { template } = watchdog({ autoScalingGroups: undefined }, { service }, f);
  template.hasResourceProperties('AWS::IAM::Policy', {
    PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Condition: { StringEquals: { 'ssm:resourceTag/aws:autoscaling:groupName': [{ Ref: Match.stringLikeRegexp('^AsgASG') }] } } })]) },
  });
});

test('fails at synth when no group is given and none can be found (never every instance)', () => {
  const f = scalingFixture('managed', Duration.minutes(5), true);
  const plain = new ecs.Ec2Service(f.stack, 'LaunchTypeService', { cluster: f.cluster, taskDefinition: f.taskDefinition, minHealthyPercent: 100 });
  const service = AppService.fromServiceAttributes(f.stack, 'LaunchTypeApp', { service: plain, container: f.container, scalableTaskCount: plain.autoScaleTaskCount({ maxCapacity: 4 }) });
  expect(() => watchdog({ autoScalingGroups: undefined }, { service }, f)).toThrow(/autoScalingGroups is not set and no Auto Scaling group could be found/);
});

test('USR1 for older Sidekiq', () => {
  const { template } = watchdog({ signal: WorkerSignal.USR1 });
  expect(watchdogConfig(template).raw).toContain('\\"signal\\":\\"USR1\\"');
});

test('leaves the limits to operators when props do not set them', () => {
  const { template } = watchdog({}, { maxMemory: undefined, expectedWorkers: undefined });
  template.resourceCountIs('AWS::SSM::Parameter', 0);
});

describe('validation', () => {
  test('fails when expectedWorkers is 0 (at least one worker stays in service)', () => {
    expect(() => watchdog({}, { expectedWorkers: 0 })).toThrow(/services\[0\].expectedWorkers \(0\)/);
  });

  test('fails when maxMemory is below the 128 MiB the watchdog accepts', () => {
    expect(() => watchdog({}, { maxMemory: Size.mebibytes(9) })).toThrow(/services\[0\].maxMemory \("9 MiB"\) must be a whole number of MiB from 128 to 1048576/);
  });

  test('fails when maxSignalledPercent is 0', () => {
    expect(() => watchdog({ maxSignalledPercent: 0 })).toThrow(/maxSignalledPercent \(0\) must be more than 0 and at most 100/);
  });

  test('fails when maxSignalledPercent is above 100', () => {
    expect(() => watchdog({ maxSignalledPercent: 150 })).toThrow(/maxSignalledPercent \(150\) must be more than 0 and at most 100/);
  });

  test('fails when the worker stopTimeout is shorter than the grace period', () => {
    const f = scalingFixture('managed', Duration.seconds(60));
    expect(() => watchdog({}, {}, f)).toThrow(/services\[0\].container stopTimeout \("60 seconds"\) is shorter than gracePeriod \(120 seconds\)/);
  });

  test('fails when the worker has no stopTimeout (ECS default 30 s)', () => {
    const f = scalingFixture('managed', 'unset');
    expect(() => watchdog({}, {}, f)).toThrow(/stopTimeout \("unset, inherits 30 seconds from the agent"\) is shorter than gracePeriod \(120 seconds\)/);
  });

  test('accepts an unset stopTimeout when the agent\'s inherited one is long enough', () => {
    const f = scalingFixture('managed', 'unset');
    expect(() => watchdog({}, { inheritedStopTimeout: Duration.minutes(10) }, f)).not.toThrow();
  });

  test('fails when the container belongs to another task definition', () => {
    const f = scalingFixture();
    const other = new ecs.Ec2TaskDefinition(f.stack, 'Other');
    const stray = other.addContainer('Stray', { image: ecs.ContainerImage.fromRegistry('x'), memoryLimitMiB: 256, stopTimeout: Duration.minutes(5) });
    expect(() => watchdog({}, { container: stray }, f)).toThrow(/services\[0\].container \("Stray"\) is not in the task definition of TestStack\/WorkerAppService/);
  });

  test('fails when the grace period is under a minute', () => {
    expect(() => watchdog({ gracePeriod: Duration.seconds(30) })).toThrow(/gracePeriod \("30 seconds"\) must be from 1 minute to 1 hour/);
  });

  test('fails when the signal would kill instead of quiet the worker', () => {
    expect(() => watchdog({ signal: WorkerSignal.of('KILL') })).toThrow(/signal \("KILL"\) is not a signal a job runner can handle gracefully/);
    expect(() => watchdog({ signal: WorkerSignal.of('SIGKILL') })).toThrow(/signal \("SIGKILL"\) is not a signal a job runner can handle gracefully/);
    expect(() => watchdog({ signal: WorkerSignal.of('SIGSTOP') })).toThrow(/signal \("SIGSTOP"\) is not a signal a job runner can handle gracefully/);
  });
});
