import { CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand, RecordLifecycleActionHeartbeatCommand } from '@aws-sdk/client-auto-scaling';
import { DescribeContainerInstancesCommand, ECSClient, StopTaskCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { DrainerConfig, sweep } from '../../handlers/instance-drainer/drainer';
import { MotoServer, startMoto } from '../support/moto';
import { clusterWithInstances, Fleet, registerWorkerTaskDefinition, runServiceTasks, throttlingError } from './scaling-support/ecs-fixture';
import { CapturedLogger, captureLogger } from './scaling-support/logs';

const CONFIG: DrainerConfig = { cluster: 'apps', autoScalingGroupName: 'apps-asg', lifecycleHookName: 'DrainBeforeTerminate', maxDrainSeconds: 3600 };
const now = () => Date.UTC(2026, 10, 26, 3, 40, 0);

/**
 * Auto Scaling stand-in: moto 5.2.1 implements neither the Terminating:Wait lifecycle state nor
 * CompleteLifecycleAction, so the group's view and the completions are kept here.
 */
class FakeAutoScaling {
  public readonly completed: CompleteLifecycleActionCommand['input'][] = [];
  constructor(public waiting: string[]) {}
  async send(command: DescribeAutoScalingGroupsCommand | CompleteLifecycleActionCommand): Promise<unknown> {
    if (command instanceof DescribeScalingActivitiesCommand) {
      return { Activities: this.waiting.map((id) => ({ Description: `Terminating EC2 instance: ${id}`, StartTime: new Date(now() - 60_000), StatusCode: 'MidLifecycleAction' })) };
    }
    if (command instanceof RecordLifecycleActionHeartbeatCommand) return {};
    if (command instanceof DescribeAutoScalingGroupsCommand) {
      return { AutoScalingGroups: [{ AutoScalingGroupName: CONFIG.autoScalingGroupName, Instances: this.waiting.map((InstanceId) => ({ InstanceId, LifecycleState: 'Terminating:Wait' })) }] };
    }
    this.completed.push(command.input);
    return {};
  }
}

let moto: MotoServer;
let ecs: ECSClient;
let log: CapturedLogger;

beforeAll(async () => {
  moto = await startMoto();
  ecs = new ECSClient(moto.clientConfig);
});
afterAll(() => moto.stop());
beforeEach(async () => {
  await moto.reset();
  log = captureLogger();
});
afterEach(() => log.restore());

async function statusOf(fleet: Fleet, instanceId: string): Promise<string | undefined> {
  const out = await ecs.send(new DescribeContainerInstancesCommand({ cluster: fleet.cluster, containerInstances: [fleet.containerInstances.get(instanceId)!] }));
  return out.containerInstances?.[0].status;
}

test('drains a terminating instance, waits while it runs a task, then completes the lifecycle action', async () => {
  // GIVEN two registered instances; the task runs on the one being terminated
  const fleet = await clusterWithInstances(moto, ecs, CONFIG.cluster, 2);
  const [task] = await runServiceTasks(ecs, CONFIG.cluster, await registerWorkerTaskDefinition(ecs), 'worker', 1);
  const busy = [...fleet.containerInstances].find(([, arn]) => arn === task.containerInstanceArn)![0];
  const idle = [...fleet.containerInstances.keys()].find((id) => id !== busy)!;
  const autoScaling = new FakeAutoScaling([]);
  const event = { AutoScalingGroupName: CONFIG.autoScalingGroupName, LifecycleHookName: CONFIG.lifecycleHookName, EC2InstanceId: busy };

  // WHEN the lifecycle event arrives
  const first = await sweep(CONFIG, { ecs, autoScaling, log: log.logger, now }, event);

  // THEN the instance drains but is not released while its task runs
  expect(first.setDraining).toEqual([busy]);
  expect(first.waiting).toEqual([busy]);
  expect(autoScaling.completed).toEqual([]);
  expect(await statusOf(fleet, busy)).toBe('DRAINING');
  expect(await statusOf(fleet, idle)).toBe('ACTIVE');

  // WHEN the task has moved away and the scheduled pass runs again
  await ecs.send(new StopTaskCommand({ cluster: CONFIG.cluster, task: task.taskArn! }));
  autoScaling.waiting = [busy];
  const second = await sweep(CONFIG, { ecs, autoScaling, log: log.logger, now });

  // THEN the lifecycle action is completed with CONTINUE
  expect(second.completed).toEqual([busy]);
  expect(autoScaling.completed).toEqual([{ AutoScalingGroupName: 'apps-asg', LifecycleHookName: 'DrainBeforeTerminate', InstanceId: busy, LifecycleActionResult: 'CONTINUE' }]);
});

test('sets instances to DRAINING in batches of at most 10', async () => {
  // GIVEN 12 instances waiting in the hook
  const fleet = await clusterWithInstances(moto, ecs, CONFIG.cluster, 12);
  const autoScaling = new FakeAutoScaling([...fleet.containerInstances.keys()]);
  const sendSpy = jest.spyOn(ecs, 'send');
  // WHEN
  const outcome = await sweep(CONFIG, { ecs, autoScaling, log: log.logger, now });
  // THEN
  const drainCalls = sendSpy.mock.calls.map(([c]) => c as unknown).filter((c) => c instanceof UpdateContainerInstancesStateCommand) as UpdateContainerInstancesStateCommand[];
  sendSpy.mockRestore();
  expect(drainCalls.map((c) => c.input.containerInstances?.length)).toEqual([10, 2]);
  expect(outcome.setDraining).toHaveLength(12);
  expect(outcome.completed).toHaveLength(12);
});

test('ignores lifecycle events of other hooks or groups', async () => {
  // GIVEN
  const fleet = await clusterWithInstances(moto, ecs, CONFIG.cluster, 1);
  const [id] = fleet.containerInstances.keys();
  const autoScaling = new FakeAutoScaling([]);
  // WHEN
  const outcome = await sweep(CONFIG, { ecs, autoScaling, log: log.logger, now }, { AutoScalingGroupName: 'other-asg', LifecycleHookName: CONFIG.lifecycleHookName, EC2InstanceId: id });
  // THEN
  expect(outcome.terminating).toEqual([]);
  expect(await statusOf(fleet, id)).toBe('ACTIVE');
});

test('ECS throttling completes nothing and logs why', async () => {
  // GIVEN an instance waiting in the hook and an ECS that throttles every call
  const fleet = await clusterWithInstances(moto, ecs, CONFIG.cluster, 1);
  const [id] = fleet.containerInstances.keys();
  const autoScaling = new FakeAutoScaling([id]);
  const throttled = { send: async () => { throw throttlingError(); } };
  // WHEN
  const outcome = await sweep(CONFIG, { ecs: throttled, autoScaling, log: log.logger, now });
  // THEN
  expect(outcome.completed).toEqual([]);
  expect(autoScaling.completed).toEqual([]);
  expect(outcome.skippedBecause).toBe('ECS did not report on every terminating instance');
  expect(log.problems()).toMatch(/Completed nothing for these instances: ECS throttled the drainer/);
});

test('an Auto Scaling failure completes nothing and logs why', async () => {
  // GIVEN
  const autoScaling = { send: async () => { throw throttlingError(); } };
  // WHEN
  const outcome = await sweep(CONFIG, { ecs, autoScaling, log: log.logger, now });
  // THEN
  expect(outcome.completed).toEqual([]);
  expect(log.problems()).toMatch(/Completed nothing: Auto Scaling throttled DescribeAutoScalingGroups/);
});

test('an instance ECS lists but fails to describe is not released', async () => {
  // GIVEN an instance waiting in the hook, running a task, and an ECS whose re-read reports it under failures
  const fleet = await clusterWithInstances(moto, ecs, CONFIG.cluster, 1);
  const [id] = fleet.containerInstances.keys();
  await runServiceTasks(ecs, CONFIG.cluster, await registerWorkerTaskDefinition(ecs), 'worker', 1);
  const autoScaling = new FakeAutoScaling([id]);
  let describes = 0;
  const flaky = {
    send: async (command: unknown): Promise<unknown> => {
      if (command instanceof DescribeContainerInstancesCommand && ++describes > 1) {
        return { containerInstances: [], failures: command.input.containerInstances!.map((arn) => ({ arn, reason: 'MISSING' })) };
      }
      return ecs.send(command as DescribeContainerInstancesCommand);
    },
  };
  // WHEN
  const outcome = await sweep(CONFIG, { ecs: flaky, autoScaling, log: log.logger, now });
  // THEN the lifecycle action is not completed on missing data
  expect(outcome.completed).toEqual([]);
  expect(autoScaling.completed).toEqual([]);
  expect(outcome.skippedBecause).toBe('ECS did not report on every terminating instance');
});
