import { CloudWatchClient, PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { DescribeTasksCommand, ECSClient, Task } from '@aws-sdk/client-ecs';
import { GetParameterCommand, ListCommandsCommand, PutParameterCommand, SendCommandCommand, SSMClient } from '@aws-sdk/client-ssm';
import { WatchdogConfig } from '../../handlers/worker-watchdog/config';
import { signalParameters, watch } from '../../handlers/worker-watchdog/watchdog';
import { MotoServer, startMoto } from '../support/moto';
import { clusterWithInstances, Fleet, pinTasksRunning, registerWorkerTaskDefinition, runServiceTasks, throttlingError } from './scaling-support/ecs-fixture';
import { CapturedLogger, captureLogger } from './scaling-support/logs';

const PREFIX = '/worker-watchdog/sidekiq';
const NOW = Date.UTC(2026, 10, 26, 3, 40, 10);

function config(overrides: Partial<WatchdogConfig> = {}): WatchdogConfig {
  return {
    services: [{ cluster: 'apps', service: 'sidekiq', container: 'sidekiq', parameterPrefix: PREFIX }],
    signal: 'TSTP',
    signalDocument: 'WorkerWatchdogSignal',
    gracePeriodSeconds: 120,
    maxSignalledPercent: 25,
    memoryNamespace: 'ECS/ContainerInsights',
    memoryMetricName: 'MemoryUtilized',
    ...overrides,
  };
}

let moto: MotoServer;
let ecs: ECSClient;
let ssm: SSMClient;
let cloudwatch: CloudWatchClient;
let log: CapturedLogger;
let fleet: Fleet;
let tasks: Task[];

const deps = (now = NOW) => ({ ecs, ssm, cloudwatch, log: log.logger, now: () => now });
const taskId = (t: Task) => t.taskArn!.split('/').pop()!;

async function setLimits(maxMemoryMiB?: string, expectedWorkers?: string): Promise<void> {
  if (maxMemoryMiB !== undefined) await ssm.send(new PutParameterCommand({ Name: `${PREFIX}/max-memory-mib`, Value: maxMemoryMiB, Type: 'String', Overwrite: true }));
  if (expectedWorkers !== undefined) await ssm.send(new PutParameterCommand({ Name: `${PREFIX}/expected-workers`, Value: expectedWorkers, Type: 'String', Overwrite: true }));
}

/** Container Insights (enhanced) task-level memory samples, one minute before NOW. */
async function reportMemory(memoryMiB: number[]): Promise<void> {
  await cloudwatch.send(new PutMetricDataCommand({
    Namespace: 'ECS/ContainerInsights',
    MetricData: tasks.map((t, i) => ({
      MetricName: 'MemoryUtilized',
      Dimensions: [{ Name: 'ClusterName', Value: 'apps' }, { Name: 'TaskDefinitionFamily', Value: 'worker' }, { Name: 'TaskId', Value: taskId(t) }],
      Timestamp: new Date(NOW - 90_000),
      Value: memoryMiB[i],
      Unit: 'Megabytes',
    })),
  }));
}

async function sentCommands() {
  const out = await ssm.send(new ListCommandsCommand({}));
  return out.Commands ?? [];
}

beforeAll(async () => {
  moto = await startMoto();
  ecs = new ECSClient(moto.clientConfig);
  ssm = new SSMClient(moto.clientConfig);
  cloudwatch = new CloudWatchClient(moto.clientConfig);
});
afterAll(() => moto.stop());
beforeEach(async () => {
  await moto.reset();
  await pinTasksRunning(moto);
  fleet = await clusterWithInstances(moto, ecs, 'apps', 2);
  const taskDefinition = await registerWorkerTaskDefinition(ecs);
  tasks = await runServiceTasks(ecs, 'apps', taskDefinition, 'sidekiq', 4);
  // A task of another service on the same cluster must never be touched.
  await runServiceTasks(ecs, 'apps', taskDefinition, 'other', 1);
  log = captureLogger();
});
afterEach(() => log.restore());

test('signals only the over-limit task, through the watchdog document on its container instance', async () => {
  // GIVEN one of four tasks above 1024 MiB
  await setLimits('1024', '3');
  await reportMemory([600, 1500, 700, 800]);
  const sendSpy = jest.spyOn(ssm, 'send');
  // WHEN
  const [outcome] = await watch(config(), deps());
  // THEN
  expect(outcome.signalled).toEqual([tasks[1].taskArn]);
  const commands = await sentCommands();
  expect(commands).toHaveLength(1);
  // moto lists every EC2 instance under a command sent without targets, so the request itself is checked.
  const sent = sendSpy.mock.calls.map(([c]) => c as unknown).filter((c) => c instanceof SendCommandCommand) as SendCommandCommand[];
  sendSpy.mockRestore();
  const ec2Id = [...fleet.containerInstances].find(([, arn]) => arn === tasks[1].containerInstanceArn)![0];
  expect(sent.map((c) => c.input.InstanceIds)).toEqual([[ec2Id]]);
  expect(commands[0].DocumentName).toBe('WorkerWatchdogSignal');
  expect(commands[0].Parameters).toEqual({ taskArn: [tasks[1].taskArn], containerName: ['sidekiq'], signal: ['TSTP'] });
});

test('never signals the same task twice, and stops it once the grace period has passed', async () => {
  // GIVEN a task that was signalled in an earlier run
  await setLimits('1024', '3');
  await reportMemory([600, 1500, 700, 800]);
  await watch(config(), deps());
  // WHEN the next run comes before the grace period ends
  const [again] = await watch(config(), deps(NOW + 60_000));
  // THEN nothing new is sent
  expect(again.signalled).toEqual([]);
  expect(again.stopped).toEqual([]);
  expect(await sentCommands()).toHaveLength(1);
  // WHEN a run comes after the grace period
  const [later] = await watch(config(), deps(NOW + 120_000));
  // THEN the task is stopped so the service replaces it
  expect(later.stopped).toEqual([tasks[1].taskArn]);
  const described = await ecs.send(new DescribeTasksCommand({ cluster: 'apps', tasks: [tasks[1].taskArn!] }));
  expect(described.tasks?.[0].desiredStatus).toBe('STOPPED');
  const state = await ssm.send(new GetParameterCommand({ Name: `${PREFIX}/signalled` }));
  expect(Object.keys(JSON.parse(state.Parameter!.Value!))).toEqual([tasks[1].taskArn]);
});

test('never signals more than the configured share of the service at once', async () => {
  // GIVEN three of four tasks over the limit and a 50 % share
  await setLimits('1024', '1');
  await reportMemory([1100, 1500, 1300, 800]);
  // WHEN
  const [outcome] = await watch(config({ maxSignalledPercent: 50 }), deps());
  // THEN the two largest are signalled
  expect(outcome.signalled).toEqual([tasks[1].taskArn, tasks[2].taskArn]);
  expect(await sentCommands()).toHaveLength(2);
  expect(log.lines().map((l) => l.message).join('\n')).toMatch(/More tasks are over the limit than the signalling share allows/);
});

test('sends the configured signal (USR1 for older Sidekiq)', async () => {
  // GIVEN
  await setLimits('1024', '3');
  await reportMemory([600, 1500, 700, 800]);
  // WHEN
  await watch(config({ signal: 'USR1' }), deps());
  // THEN
  const [command] = await sentCommands();
  expect(command.Parameters?.signal).toEqual(['USR1']);
});

describe('nothing is signalled, and the log says why', () => {
  test('when the limits are missing from Parameter Store', async () => {
    // GIVEN only one of the two limits
    await setLimits('1024', undefined);
    await reportMemory([600, 5000, 700, 800]);
    // WHEN
    const [outcome] = await watch(config(), deps());
    // THEN
    expect(outcome.signalled).toEqual([]);
    expect(await sentCommands()).toEqual([]);
    expect(log.problems()).toMatch(/Signalled nothing more: limits missing in Parameter Store \(\/worker-watchdog\/sidekiq\/expected-workers\)/);
  });

  test('when ECS throttles the watchdog', async () => {
    // GIVEN
    await setLimits('1024', '4');
    await reportMemory([600, 5000, 700, 800]);
    const throttled = { send: async () => { throw throttlingError(); } };
    // WHEN
    const [outcome] = await watch(config(), { ...deps(), ecs: throttled });
    // THEN
    expect(outcome.signalled).toEqual([]);
    expect(await sentCommands()).toEqual([]);
    expect(log.problems()).toMatch(/Signalled nothing more: ECS or SSM throttled the watchdog/);
  });

  test('when fewer workers run than expected', async () => {
    // GIVEN
    await setLimits('1024', '6');
    await reportMemory([600, 5000, 700, 800]);
    // WHEN
    const [outcome] = await watch(config(), deps());
    // THEN
    expect(outcome.signalled).toEqual([]);
    expect(log.problems()).toMatch(/4 worker task\(s\) in service; signalling one more would leave fewer than the expected 6/);
  });

  test('when Container Insights has no memory data for the tasks', async () => {
    // GIVEN no memory samples at all
    await setLimits('1024', '3');
    // WHEN
    const [outcome] = await watch(config(), deps());
    // THEN
    expect(outcome.signalled).toEqual([]);
    expect(await sentCommands()).toEqual([]);
    expect(log.lines().map((l) => l.message).join('\n')).toMatch(/No usable memory data for some tasks; they are left alone/);
  });
});

test('refuses signal parameters the document would refuse (a container name that could inject shell)', () => {
  expect(() => signalParameters('arn:aws:ecs:us-east-1:123456789012:task/apps/abc', 'x; rm -rf /', 'TSTP')).toThrow(/refusing to signal with unexpected input .*"x; rm -rf \/"/);
});

test('a task ECS fails to describe keeps its signalled state and is not signalled again', async () => {
  // GIVEN a task that was signalled in an earlier run
  await setLimits('1024', '3');
  await reportMemory([600, 1500, 700, 800]);
  await watch(config(), deps());
  // WHEN the next run gets a DescribeTasks failure for that task
  const flaky = {
    send: async (command: unknown): Promise<unknown> => {
      if (command instanceof DescribeTasksCommand) {
        const out = await ecs.send(command);
        return {
          tasks: (out.tasks ?? []).filter((t) => t.taskArn !== tasks[1].taskArn),
          failures: (out.tasks ?? []).filter((t) => t.taskArn === tasks[1].taskArn).map((t) => ({ arn: t.taskArn, reason: 'MISSING' })),
        };
      }
      return ecs.send(command as DescribeTasksCommand);
    },
  };
  const [flakyRun] = await watch(config(), { ...deps(NOW + 30_000), ecs: flaky });
  // AND a normal run follows, still within the grace period
  const [again] = await watch(config(), deps(NOW + 60_000));
  // THEN the task is neither forgotten nor signalled a second time
  expect(flakyRun.signalled).toEqual([]);
  expect(again.signalled).toEqual([]);
  expect(await sentCommands()).toHaveLength(1);
  const state = await ssm.send(new GetParameterCommand({ Name: `${PREFIX}/signalled` }));
  expect(Object.keys(JSON.parse(state.Parameter!.Value!))).toEqual([tasks[1].taskArn]);
});

test('a signalled state without a valid signal time stops nothing', async () => {
  // GIVEN a task recorded as signalled, with a signal time that is not a number
  await setLimits('1024', '4');
  await reportMemory([600, 700, 800, 900]);
  await ssm.send(new PutParameterCommand({ Name: `${PREFIX}/signalled`, Value: JSON.stringify({ [tasks[1].taskArn!]: 'soon' }), Type: 'String', Overwrite: true }));
  // WHEN
  const [outcome] = await watch(config(), deps());
  // THEN the task is not stopped, and the log says why
  expect(outcome.stopped).toEqual([]);
  const described = await ecs.send(new DescribeTasksCommand({ cluster: 'apps', tasks: [tasks[1].taskArn!] }));
  expect(described.tasks?.[0].desiredStatus).toBe('RUNNING');
  expect(log.problems()).toMatch(/Signalled nothing more: listing tasks or reading the signalled state failed/);
});
