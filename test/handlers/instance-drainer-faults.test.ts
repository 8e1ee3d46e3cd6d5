// Fault matrix of the instance drainer against moto_server (ECS) and an Auto Scaling stand-in (moto
// 5.2.1 has neither Terminating:Wait nor lifecycle actions). "Harmful" here means: a lifecycle action
// completed (instance released to terminate) while ECS has not positively reported it empty, or a
// terminating instance left undrained / without a heartbeat while its tasks remain.
import {
  CompleteLifecycleActionCommand, DescribeAutoScalingGroupsCommand, DescribeScalingActivitiesCommand, RecordLifecycleActionHeartbeatCommand,
} from '@aws-sdk/client-auto-scaling';
import { DescribeContainerInstancesCommand, ECSClient, ListContainerInstancesCommand, UpdateContainerInstancesStateCommand } from '@aws-sdk/client-ecs';
import { DrainerConfig, DrainerDeps, sweep, SweepOutcome } from '../../handlers/instance-drainer/drainer';
import { MotoServer, startMoto } from '../support/moto';
import { clusterWithInstances, registerWorkerTaskDefinition, runServiceTasks, throttlingError } from './scaling-support/ecs-fixture';
import { CapturedLogger, captureLogger } from './scaling-support/logs';

const CONFIG: DrainerConfig = { cluster: 'apps', autoScalingGroupName: 'apps-asg', lifecycleHookName: 'DrainBeforeTerminate', maxDrainSeconds: 3600 };
const NOW = Date.UTC(2026, 10, 26, 3, 40, 0);
/** ECS rejects a cluster query expression longer than this (the issue saw a rejected 3,467-character filter). */
const ECS_FILTER_LIMIT = 1000;

class FakeAutoScaling {
  public readonly completed: string[] = [];
  public readonly heartbeats: string[] = [];
  public waitingSinceMs = NOW - 120_000;
  public failWith?: { command: abstract new (...args: never[]) => unknown; error: () => Error };
  constructor(public waiting: string[]) {}
  async send(command: unknown): Promise<unknown> {
    if (this.failWith && command instanceof this.failWith.command) throw this.failWith.error();
    if (command instanceof DescribeAutoScalingGroupsCommand) {
      return { AutoScalingGroups: [{ AutoScalingGroupName: CONFIG.autoScalingGroupName, Instances: this.waiting.map((InstanceId) => ({ InstanceId, LifecycleState: 'Terminating:Wait' })) }] };
    }
    if (command instanceof DescribeScalingActivitiesCommand) {
      return { Activities: this.waiting.map((id) => ({ Description: `Terminating EC2 instance: ${id}`, StartTime: new Date(this.waitingSinceMs), StatusCode: 'MidLifecycleAction' })) };
    }
    if (command instanceof RecordLifecycleActionHeartbeatCommand) {
      this.heartbeats.push(command.input.InstanceId!);
      return {};
    }
    if (command instanceof CompleteLifecycleActionCommand) {
      this.completed.push(command.input.InstanceId!);
      return {};
    }
    throw new Error(`unexpected ${String(command)}`);
  }
}

interface Setup {
  /** EC2 id → tasks it runs. */
  readonly tasks: Map<string, number>;
  readonly ids: string[];
  readonly autoScaling: FakeAutoScaling;
}

interface Row {
  readonly name: string;
  readonly instances?: number;
  /** Tasks on the first instance (moto places RunTask on the first ACTIVE instance when alone). */
  readonly busyTasks?: number;
  /** Instance ids (by index) waiting in the hook; default all. */
  readonly terminating?: number[];
  /** Extra ids (not registered in ECS) waiting in the hook. */
  readonly unregistered?: string[];
  readonly ecs?: (real: ECSClient, s: Setup) => DrainerDeps['ecs'];
  readonly arrange?: (s: Setup) => void;
  readonly concurrent?: number;
  /** Instances (by index, or unregistered id) that may be released. */
  readonly mayRelease: Array<number | string>;
  /** Instances that must be released (the drainer still works). */
  readonly mustRelease?: Array<number | string>;
  /** Instances that must get a heartbeat. */
  readonly mustHeartbeat?: number[];
  readonly mustNotHeartbeat?: number[];
  /** Every terminating ECS instance must be set to DRAINING. */
  readonly mustDrainAll?: boolean;
  readonly logged: RegExp;
}

function wrap(real: ECSClient, answer: (c: unknown, real: ECSClient) => Promise<unknown> | undefined): DrainerDeps['ecs'] {
  return { send: async (c: unknown) => (await answer(c, real)) ?? real.send(c as never) } as never;
}
/** Real ECS limits: a filter too long is rejected. */
const filterLimit = (c: unknown) => {
  if (c instanceof ListContainerInstancesCommand && (c.input.filter ?? '').length > ECS_FILTER_LIMIT) {
    const err = new Error(`Filter expression too long (${c.input.filter!.length})`);
    err.name = 'InvalidParameterException';
    throw err;
  }
  return undefined;
};

const rows: Row[] = [
  {
    name: 'DescribeContainerInstances omits a listed busy instance without a failure entry', instances: 1, busyTasks: 3, mayRelease: [],
    ecs: (real) => wrap(real, async (c) => (c instanceof DescribeContainerInstancesCommand ? { containerInstances: [], failures: [] } : undefined)),
    logged: /listed container instances it did not describe/,
  },
  {
    name: 'runningTasksCount missing from the description', instances: 1, busyTasks: 1, mayRelease: [],
    ecs: (real) => wrap(real, async (c) => {
      if (!(c instanceof DescribeContainerInstancesCommand)) return undefined;
      const out = await real.send(c);
      return { ...out, containerInstances: out.containerInstances!.map((ci) => ({ ...ci, status: 'DRAINING', runningTasksCount: undefined, pendingTasksCount: undefined })) };
    }),
    logged: /Waiting for the container instance to empty/,
  },
  {
    name: '45 terminating instances: filters stay under ECS\'s limit and all drain', instances: 45, mayRelease: Array.from({ length: 45 }, (_, i) => i), mustRelease: [0, 44], mustDrainAll: true,
    ecs: (real) => wrap(real, async (c) => filterLimit(c)),
    logged: /Set container instances to DRAINING/,
  },
  {
    name: 'one filter chunk rejected: only its instances wait, the others drain', instances: 25, mayRelease: Array.from({ length: 5 }, (_, i) => i + 20), mustRelease: [20, 24],
    ecs: (real, s) => wrap(real, async (c) => {
      if (c instanceof ListContainerInstancesCommand && (c.input.filter ?? '').includes(s.ids[0])) throw Object.assign(new Error('rejected'), { name: 'InvalidParameterException' });
      return undefined;
    }),
    logged: /Completed nothing for these instances: an ECS call failed/,
  },
  { name: 'a busy instance gets heartbeats while its tasks remain', instances: 1, busyTasks: 2, mayRelease: [], mustHeartbeat: [0], logged: /Waiting for the container instance to empty/ },
  {
    name: 'no heartbeat after the longest drain time', instances: 1, busyTasks: 2, mayRelease: [], mustNotHeartbeat: [0],
    arrange: (s) => { s.autoScaling.waitingSinceMs = NOW - 2 * 3600_000; },
    logged: /No heartbeat: the instance has waited its longest drain time/,
  },
  {
    name: 'DescribeScalingActivities fails: no heartbeat, nothing released', instances: 1, busyTasks: 1, mayRelease: [], mustNotHeartbeat: [0],
    arrange: (s) => { s.autoScaling.failWith = { command: DescribeScalingActivitiesCommand, error: throttlingError }; },
    logged: /Could not read when the instances started terminating/,
  },
  {
    name: 'ECS throttles ListContainerInstances', instances: 2, mayRelease: [],
    ecs: (real) => wrap(real, async (c) => { if (c instanceof ListContainerInstancesCommand) throw throttlingError(); return undefined; }),
    logged: /Completed nothing for these instances: ECS throttled the drainer/,
  },
  {
    name: 'UpdateContainerInstancesState throttled: a busy instance stays ACTIVE and is kept', instances: 1, busyTasks: 1, mayRelease: [],
    ecs: (real) => wrap(real, async (c) => { if (c instanceof UpdateContainerInstancesStateCommand) throw throttlingError(); return undefined; }),
    logged: /Setting container instances to DRAINING failed/,
  },
  {
    name: 'UpdateContainerInstancesState fails for an empty instance: not released while ACTIVE', instances: 1, mayRelease: [],
    ecs: (real) => wrap(real, async (c) => { if (c instanceof UpdateContainerInstancesStateCommand) throw throttlingError(); return undefined; }),
    logged: /Waiting for the container instance to empty/,
  },
  {
    name: 'ListContainerInstances paginates one instance per page', instances: 3, busyTasks: 1, mayRelease: [1, 2], mustRelease: [1, 2],
    ecs: (real) => wrap(real, async (c) => {
      if (!(c instanceof ListContainerInstancesCommand)) return undefined;
      const all = (await real.send(new ListContainerInstancesCommand({ cluster: c.input.cluster }))).containerInstanceArns ?? [];
      const i = Number(c.input.nextToken ?? '0');
      return { containerInstanceArns: [all[i]], nextToken: i + 1 < all.length ? String(i + 1) : undefined };
    }),
    logged: /Instance drained; lifecycle action completed/,
  },
  { name: 'an instance that never registered is released', instances: 1, busyTasks: 1, unregistered: ['i-0000000000000dead'], mayRelease: ['i-0000000000000dead'], mustRelease: ['i-0000000000000dead'], logged: /Instance is not registered in the cluster; nothing to drain/ },
  { name: 'two overlapping sweeps never release a busy instance', instances: 2, busyTasks: 2, concurrent: 2, mayRelease: [1], mustRelease: [1], logged: /Waiting for the container instance to empty/ },
  {
    name: 'DescribeAutoScalingGroups throttled', instances: 1, mayRelease: [],
    arrange: (s) => { s.autoScaling.failWith = { command: DescribeAutoScalingGroupsCommand, error: throttlingError }; },
    logged: /Completed nothing: Auto Scaling throttled DescribeAutoScalingGroups/,
  },
  {
    name: 'CompleteLifecycleAction fails: the instance waits for the next pass', instances: 1, mayRelease: [],
    arrange: (s) => { s.autoScaling.failWith = { command: CompleteLifecycleActionCommand, error: throttlingError }; },
    logged: /CompleteLifecycleAction failed; the next pass retries/,
  },
  {
    name: 'DescribeContainerInstances answers with an instance of another EC2 id', instances: 1, busyTasks: 1, mayRelease: [],
    ecs: (real) => wrap(real, async (c) => {
      if (!(c instanceof DescribeContainerInstancesCommand)) return undefined;
      const out = await real.send(c);
      return { ...out, containerInstances: out.containerInstances!.map((ci) => ({ ...ci, ec2InstanceId: 'i-0000000000000beef', runningTasksCount: 0, pendingTasksCount: 0, status: 'DRAINING' })) };
    }),
    logged: /listed container instances it did not describe/,
  },
];

let moto: MotoServer;
let ecs: ECSClient;
let log: CapturedLogger;
const harmful: string[] = [];

beforeAll(async () => {
  moto = await startMoto();
  ecs = new ECSClient(moto.clientConfig);
});
afterAll(() => {
  if (process.env.DRAINER_FAULTS_REPORT) process.stdout.write(`instance-drainer fault matrix: ${rows.length} cases, ${harmful.length} harmful\n${harmful.join('\n')}\n`);
  return moto.stop();
});
beforeEach(() => { log = captureLogger(); });
afterEach(() => log.restore());

test.each(rows.map((r) => [r.name, r] as const))('%s: no undrained release, and the reason is logged', async (_, row) => {
  // GIVEN
  await moto.reset();
  const fleet = await clusterWithInstances(moto, ecs, CONFIG.cluster, row.instances ?? 1);
  const ids = [...fleet.containerInstances.keys()];
  const tasks = new Map<string, number>();
  if (row.busyTasks) {
    const placed = await runServiceTasks(ecs, CONFIG.cluster, await registerWorkerTaskDefinition(ecs), 'worker', row.busyTasks);
    for (const t of placed) {
      const id = ids.find((i) => fleet.containerInstances.get(i) === t.containerInstanceArn)!;
      tasks.set(id, (tasks.get(id) ?? 0) + 1);
    }
  }
  // Busy instances first, so rows can name them by index 0.
  ids.sort((a, b) => (tasks.get(b) ?? 0) - (tasks.get(a) ?? 0) || a.localeCompare(b));
  const waiting = [...(row.terminating ?? ids.map((__, i) => i)).map((i) => ids[i]), ...(row.unregistered ?? [])];
  const autoScaling = new FakeAutoScaling(waiting);
  const setup: Setup = { tasks, ids, autoScaling };
  row.arrange?.(setup);
  const deps: DrainerDeps = { ecs: row.ecs?.(ecs, setup) ?? ecs, autoScaling, log: log.logger, now: () => NOW };

  // WHEN
  const outcomes: SweepOutcome[] = await Promise.all(Array.from({ length: row.concurrent ?? 1 }, () => sweep(CONFIG, deps)));

  // THEN nothing harmful
  const name = (x: number | string) => (typeof x === 'number' ? ids[x] : x);
  const may = new Set(row.mayRelease.map(name));
  const problems = [
    ...autoScaling.completed.filter((id) => !may.has(id)).map((id) => `released ${id}${tasks.get(id) ? ` with ${tasks.get(id)} task(s)` : ''} without a positive empty report`),
    ...(row.mustHeartbeat ?? []).map(name).filter((id) => !autoScaling.heartbeats.includes(id)).map((id) => `no heartbeat for ${id} while its tasks remain`),
    ...(row.mustDrainAll ? ids.filter((id) => !outcomes.some((o) => o.setDraining.includes(id))).map((id) => `${id} was never set to DRAINING`) : []),
  ];
  if (problems.length > 0) harmful.push(`${row.name}: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3})` : ''}`);
  expect(problems).toEqual([]);
  for (const id of (row.mustRelease ?? []).map(name)) expect(autoScaling.completed).toContain(id);
  for (const id of (row.mustNotHeartbeat ?? []).map(name)) expect(autoScaling.heartbeats).not.toContain(id);
  // AND the reason is in the log
  expect(log.lines().map((l) => `${l.message} ${l.reason ?? ''}`).join('\n')).toMatch(row.logged);
});
