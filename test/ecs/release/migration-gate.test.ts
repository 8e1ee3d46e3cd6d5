import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { MigrationGate, MigrationGateProps } from '../../../lib/ecs/release';
import { releaseFixture, ReleaseFixture } from './fixtures';
import { aslOf, Handlers, Run, runLocally, stepError } from './local-sfn';

/* eslint-disable @typescript-eslint/no-explicit-any */

const TASK_ARN = 'arn:aws:ecs:us-east-1:123456789012:task/utility/0123456789abcdef';
const D1 = `sha256:${'1'.repeat(64)}`;
const D2 = `sha256:${'2'.repeat(64)}`;
const D3 = `sha256:${'3'.repeat(64)}`;
const EXECUTION = (name: string) => `arn:aws:states:us-east-1:123456789012:execution:Gate:${name}`;

function stoppedTask(exitCode: number | undefined, digest = D2, stoppedReason = 'Essential container in task exited'): any {
  return {
    TaskArn: TASK_ARN,
    LastStatus: 'STOPPED',
    StoppedReason: stoppedReason,
    Containers: [
      { Name: 'sidecar', ExitCode: 0, ImageDigest: D1 },
      exitCode === undefined ? { Name: 'rails', ImageDigest: digest } : { Name: 'rails', ExitCode: exitCode, ImageDigest: digest },
    ],
  };
}

/**
 * ECR, SSM, ECS and Step Functions as the gate sees them, shared by every execution: tags move on
 * PutImage; the migration task runs what `migrating` points to when it starts; a service
 * deployment runs what `live` points to when UpdateService starts it (ECS resolves the tag to a
 * digest once per deployment) and its tasks end on that digest only when the deployment settles.
 */
class ReleaseWorld {
  public readonly images = new Map<string, string>([[D1, 'manifest-1'], [D2, 'manifest-2'], [D3, 'manifest-3']]);
  public readonly tags: Record<string, string> = { live: D1, migrating: D1 };
  public liveParameter = D1;
  public readonly services: Record<string, string> = { web: D1, worker: D1 };
  public readonly running: string[] = [];
  public readonly log: string[] = [];
  public readonly updates: any[] = [];
  public readonly notifications: any[] = [];
  public readonly checks: Record<string, number> = {};
  private readonly pending: Record<string, string> = {};

  constructor(
    private readonly migration: (digest: string) => any = (digest) => stoppedTask(0, digest),
    private readonly describe?: (service: string, check: number) => any,
  ) {}

  public handlersFor(execution: string): Handlers {
    const getManifest = (input: any) => {
      const digest = input.ImageIds[0].ImageDigest;
      const manifest = this.images.get(digest);
      return manifest
        ? { Images: [{ ImageId: { ImageDigest: digest }, ImageManifest: manifest, ImageManifestMediaType: 'application/vnd.oci.image.manifest.v1+json' }], Failures: [] }
        : { Images: [], Failures: [{ ImageId: { ImageDigest: digest }, FailureCode: 'ImageNotFound' }] };
    };
    const putImage = (input: any) => {
      expect(this.images.get(input.ImageDigest)).toBe(input.ImageManifest);
      if (this.tags[input.ImageTag] === input.ImageDigest) throw stepError('Ecr.ImageAlreadyExistsException', 'tag already on this digest');
      this.tags[input.ImageTag] = input.ImageDigest;
      this.log.push(`${execution} tag ${input.ImageTag}=${input.ImageDigest}`);
      return {};
    };
    return {
      ListRunningReleases: async () => {
        await new Promise((resolve) => setTimeout(resolve, 2));
        return { Executions: [...this.running].reverse().map((arn) => ({ ExecutionArn: arn, Status: 'RUNNING' })) };
      },
      'Read live digest': () => ({ Parameter: { Value: this.liveParameter } }),
      'Get release image manifest': getManifest,
      'Get live image manifest': getManifest,
      'Get previous image manifest': getManifest,
      'Tag release image': putImage,
      'Tag live image': putImage,
      'Tag previous image': putImage,
      'Run migration task': async () => {
        const digest = this.tags.migrating;
        this.log.push(`${execution} migrate ${digest}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
        return this.migration(digest);
      },
      'Update service': (input) => {
        this.updates.push(input);
        this.pending[input.Service] = this.tags.live;
        this.log.push(`${execution} update ${input.Service}`);
        return { Service: { Deployments: [{ Id: `ecs-svc/new-${input.Service}`, Status: 'PRIMARY' }, { Id: 'ecs-svc/old', Status: 'ACTIVE' }] } };
      },
      'Describe service': (input) => {
        const service = input.Services[0];
        this.checks[service] = (this.checks[service] ?? 0) + 1;
        if (this.describe) return this.describe(service, this.checks[service]);
        const done = this.checks[service] >= 2;
        if (done) this.services[service] = this.pending[service];
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
      'Roll back service': (input) => {
        this.services[input.Service] = this.tags.live;
        this.log.push(`${execution} roll back ${input.Service} to ${this.tags.live}`);
        return {};
      },
      'Record live digest': (input) => { this.liveParameter = input.Value; this.log.push(`${execution} record ${input.Value}`); return {}; },
      'Notify success': (input) => { this.notifications.push(input); return {}; },
      'Notify failure': (input) => { this.notifications.push(input); return {}; },
    };
  }

  /** One execution from start to end, listed as running meanwhile. */
  public async release(definition: any, input: any, name = 'one'): Promise<Run> {
    const arn = EXECUTION(name);
    this.running.push(arn);
    try {
      return await runLocally(definition, input, this.handlersFor(arn), arn);
    } finally {
      this.running.splice(this.running.indexOf(arn), 1);
    }
  }
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

/** The world is untouched by a failed release: services, live tag and live record on D1. */
function expectServicesUntouched(world: ReleaseWorld): void {
  expect(world.updates).toEqual([]);
  expect(world.services).toEqual({ web: D1, worker: D1 });
  expect(world.tags.live).toBe(D1);
  expect(world.liveParameter).toBe(D1);
}

describe('MigrationGate state machine, executed locally', () => {
  let definition: any;
  beforeAll(() => {
    const f = releaseFixture();
    definition = aslOf(f.stack, gate(f, { maxStabilityChecks: 5 }).stateMachine);
  });

  test('a push of digest D: the migration runs D, then every service ends on D and D is recorded live', async () => {
    // GIVEN everything on D1
    const world = new ReleaseWorld();
    // WHEN D2 is pushed (the ECR event input)
    const run = await world.release(definition, { trigger: 'ecr-push', repositoryName: 'rails-app', imageTag: 'release-2', imageDigest: D2 });
    // THEN
    expect(run.error).toBeUndefined();
    expect(world.log).toEqual([
      `${EXECUTION('one')} tag migrating=${D2}`,
      `${EXECUTION('one')} migrate ${D2}`,
      `${EXECUTION('one')} tag live=${D2}`,
      expect.stringMatching(/update (web|worker)$/),
      expect.stringMatching(/update (web|worker)$/),
      `${EXECUTION('one')} record ${D2}`,
    ]);
    expect(world.services).toEqual({ web: D2, worker: D2 });
    expect(world.liveParameter).toBe(D2);
    expect(world.updates).toEqual(expect.arrayContaining([
      { Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/app', Service: 'web', ForceNewDeployment: true },
      { Cluster: 'arn:aws:ecs:us-east-1:123456789012:cluster/app', Service: 'worker', ForceNewDeployment: true },
    ]));
    expect(world.checks).toEqual({ web: 2, worker: 2 });
    expect(world.notifications).toEqual([expect.objectContaining({ Message: expect.objectContaining({ result: 'SUCCEEDED', imageDigest: D2 }) })]);
  });

  test('releasing the digest that is already tagged (a re-run) succeeds: an existing tag is not an error', async () => {
    // GIVEN D2 already carries both tags
    const world = new ReleaseWorld();
    world.tags.migrating = D2;
    world.tags.live = D2;
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expect(run.error).toBeUndefined();
    expect(world.services).toEqual({ web: D2, worker: D2 });
  });

  test('a migration container that exits non-zero fails the release with its exit code; the services stay on the previous digest', async () => {
    // GIVEN: the .sync integration fails the state with the stopped task as JSON in Cause
    const world = new ReleaseWorld((digest) => { throw stepError('States.TaskFailed', JSON.stringify(stoppedTask(1, digest))); });
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expectServicesUntouched(world);
    expect(run.entered).not.toContain('Update service');
    expect(run.error?.name).toBe('MigrationFailed');
    expect(run.error?.cause).toContain(`Migration task ${TASK_ARN} exited with code 1: Essential container in task exited.`);
    expect(run.error?.cause).toContain('Logs: CloudWatch Logs group ref-AppLogsC5DF83A6 stream app/rails/0123456789abcdef.');
    expect(world.notifications).toEqual([expect.objectContaining({
      Message: expect.objectContaining({ result: 'FAILED', imageDigest: D2, error: 'MigrationFailed', message: expect.stringContaining('exited with code 1') }),
    })]);
  });

  test('a stopped task reporting a non-zero exit code without a state error also fails before any UpdateService', async () => {
    // GIVEN
    const world = new ReleaseWorld((digest) => stoppedTask(3, digest));
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expectServicesUntouched(world);
    expect(run.error?.name).toBe('MigrationFailed');
    expect(run.error?.cause).toContain('exited with code 3');
  });

  test('a migration container that never started fails with the stopped reason', async () => {
    // GIVEN
    const world = new ReleaseWorld((digest) => stoppedTask(undefined, digest, 'CannotPullContainerError: pull access denied'));
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expectServicesUntouched(world);
    expect(run.error?.name).toBe('MigrationFailed');
    expect(run.error?.cause).toContain('stopped without an exit code of container rails: CannotPullContainerError');
  });

  test('a migration that ran another digest than the release (the tag moved meanwhile) never reaches the services', async () => {
    // GIVEN a task that exits 0 but reports D3
    const world = new ReleaseWorld(() => stoppedTask(0, D3));
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expectServicesUntouched(world);
    expect(run.error?.name).toBe('MigrationRanOtherImage');
    expect(run.error?.cause).toContain(`ran another image than the release ${D2}`);
  });

  test('an input without a digest is refused before anything changes', async () => {
    // GIVEN
    const world = new ReleaseWorld();
    for (const input of [{}, { imageDigest: 'release-2' }, { imageDigest: 42 }]) {
      // WHEN
      const run = await world.release(definition, input);
      // THEN
      expect(run.error?.name).toBe('InvalidReleaseInput');
    }
    expectServicesUntouched(world);
    expect(world.log).toEqual([]);
  });

  test('a digest that is not in the repository fails before the migration', async () => {
    // GIVEN
    const world = new ReleaseWorld();
    // WHEN
    const run = await world.release(definition, { imageDigest: `sha256:${'9'.repeat(64)}` });
    // THEN
    expectServicesUntouched(world);
    expect(run.entered).not.toContain('Run migration task');
    expect(run.error?.name).toBe('ReleaseImageMissing');
  });

  test('an ECR error while tagging fails the release before the migration and says why', async () => {
    // GIVEN
    const world = new ReleaseWorld();
    const handlers = world.handlersFor(EXECUTION('one'));
    handlers['Tag release image'] = () => { throw stepError('Ecr.EcrException', 'Rate exceeded'); };
    world.running.push(EXECUTION('one'));
    // WHEN
    const run = await runLocally(definition, { imageDigest: D2 }, handlers, EXECUTION('one'));
    // THEN
    expectServicesUntouched(world);
    expect(run.entered).not.toContain('Run migration task');
    expect(run.error?.name).toBe('ReleaseTaggingFailed');
    expect(run.error?.cause).toContain('(Ecr.EcrException): Rate exceeded');
  });

  test('a migration that outlives its timeout fails the release and never updates a service', async () => {
    // GIVEN: the definition with a 1-second task timeout and a task that takes longer
    const short = JSON.parse(JSON.stringify(definition));
    short.States['Run migration task'].TimeoutSeconds = 1;
    const world = new ReleaseWorld((digest) => new Promise((resolve) => setTimeout(() => resolve(stoppedTask(0, digest)), 3000).unref()));
    // WHEN
    const run = await world.release(short, { imageDigest: D2 });
    // THEN
    expectServicesUntouched(world);
    expect(run.error?.name).toBe('MigrationTimedOut');
    expect(run.error?.cause).toBe('Migration task did not stop within 30 minutes. The services were not updated.');
  });

  test('a capacity error is retried and the release goes on once the task is placed', async () => {
    // GIVEN: two placement failures, then a successful task
    let attempts = 0;
    const world = new ReleaseWorld((digest) => {
      attempts += 1;
      if (attempts <= 2) throw stepError('ECS.AmazonECSException', 'RESOURCE:MEMORY');
      return stoppedTask(0, digest);
    });
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expect(run.error).toBeUndefined();
    expect(attempts).toBe(3);
    expect(world.services).toEqual({ web: D2, worker: D2 });
  });

  test('capacity errors beyond the retry budget fail the release as not placed', async () => {
    // GIVEN
    let attempts = 0;
    const world = new ReleaseWorld(() => { attempts += 1; throw stepError('ECS.AmazonECSException', 'RESOURCE:MEMORY'); });
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expect(attempts).toBe(6);
    expectServicesUntouched(world);
    expect(run.error?.name).toBe('MigrationNotPlaced');
    expect(run.error?.cause).toContain('after 6 attempts: RESOURCE:MEMORY');
  });

  test('a failed task is not retried', async () => {
    // GIVEN
    let attempts = 0;
    const world = new ReleaseWorld((digest) => { attempts += 1; throw stepError('States.TaskFailed', JSON.stringify(stoppedTask(2, digest))); });
    // WHEN
    await world.release(definition, { imageDigest: D2 });
    // THEN
    expect(attempts).toBe(1);
  });

  test('a deployment that never settles fails after the bounded checks and puts live back on the previous digest', async () => {
    // GIVEN: two deployments forever
    const world = new ReleaseWorld(undefined, (service) => ({
      Services: [{ Deployments: [{ Id: `ecs-svc/new-${service}`, Status: 'PRIMARY' }, { Id: 'ecs-svc/old', Status: 'ACTIVE' }], RunningCount: 1, DesiredCount: 2 }],
    }));
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expect(world.checks).toEqual({ web: 5, worker: 5 });
    expect(run.error?.name).toBe('DeploymentNotStable');
    expect(run.error?.cause).toMatch(/did not reach a steady state after 5 checks 30 seconds apart \(1 of 2 tasks running, 2 deployments\)/);
    expect(run.error?.cause).toContain(`The live tag is back on the previous release ${D1} and every service got a new deployment of it; the database schema stays migrated.`);
    expect(world.tags.live).toBe(D1);
    expect(world.liveParameter).toBe(D1);
    expect(world.log.slice(-3)).toEqual([
      `${EXECUTION('one')} tag live=${D1}`,
      expect.stringMatching(new RegExp(`roll back (web|worker) to ${D1}$`)),
      expect.stringMatching(new RegExp(`roll back (web|worker) to ${D1}$`)),
    ]);
    expect(world.services).toEqual({ web: D1, worker: D1 });
  });

  test('a deployment rolled back by the circuit breaker fails the release and restores the live tag', async () => {
    // GIVEN: the primary deployment is no longer the one the release started
    const world = new ReleaseWorld(undefined, () => ({
      Services: [{ Deployments: [{ Id: 'ecs-svc/rollback', Status: 'PRIMARY' }], RunningCount: 2, DesiredCount: 2 }],
    }));
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expect(run.error?.name).toBe('DeploymentRolledBack');
    expect(run.error?.cause).toContain('no longer the primary one');
    expect(world.services).toEqual({ web: D1, worker: D1 });
    expect(world.tags.live).toBe(D1);
    expect(world.liveParameter).toBe(D1);
    expect(world.notifications).toEqual([expect.objectContaining({ Message: expect.objectContaining({ result: 'FAILED', imageDigest: D2 }) })]);
  });

  test('without a previous release (first release fails), the failure is reported without a restore', async () => {
    // GIVEN a fresh stack: the live record still says none
    const world = new ReleaseWorld(undefined, () => ({
      Services: [{ Deployments: [{ Id: 'ecs-svc/rollback', Status: 'PRIMARY' }], RunningCount: 2, DesiredCount: 2 }],
    }));
    world.liveParameter = 'none';
    // WHEN
    const run = await world.release(definition, { imageDigest: D2 });
    // THEN
    expect(run.error?.name).toBe('DeploymentRolledBack');
    expect(run.entered).not.toContain('Tag previous image');
    expect(run.entered).not.toContain('Roll back service');
    expect(world.liveParameter).toBe('none');
  });

  test('two pushes close together do not interleave: the first started is released first, the last one ends live', async () => {
    // GIVEN everything on D1
    const world = new ReleaseWorld();
    // WHEN D2 and D3 are pushed at the same time (D2's execution started first)
    const [first, second] = await Promise.all([
      world.release(definition, { imageDigest: D2 }, 'first'),
      new Promise<Run>((resolve) => setImmediate(() => resolve(world.release(definition, { imageDigest: D3 }, 'second')))),
    ]);
    // THEN both succeed, every step of the first precedes every step of the second
    expect(first.error).toBeUndefined();
    expect(second.error).toBeUndefined();
    const owners = world.log.map((line) => line.split(' ')[0]);
    expect(owners).toEqual([...Array(6).fill(EXECUTION('first')), ...Array(6).fill(EXECUTION('second'))]);
    expect(world.log.filter((l) => l.includes(' migrate '))).toEqual([`${EXECUTION('first')} migrate ${D2}`, `${EXECUTION('second')} migrate ${D3}`]);
    expect(second.entered.filter((s) => s === 'Wait for turn').length).toBeGreaterThan(0);
    expect(world.services).toEqual({ web: D3, worker: D3 });
    expect(world.liveParameter).toBe(D3);
  });
});

test('with a fluentd log driver, the failure names the driver, the tag, the container and the task', async () => {
  // GIVEN a migration container that logs through fluentd
  const f = releaseFixture();
  const td = new ecs.Ec2TaskDefinition(f.stack, 'FluentdTask');
  td.addContainer('app', {
    image: MigrationGate.migrationImage(f.repository),
    memoryReservationMiB: 512,
    logging: ecs.LogDrivers.fluentd({ tag: 'job' }),
  });
  const definition = aslOf(f.stack, gate(f, { taskDefinition: td }).stateMachine);
  const failed = { ...stoppedTask(1), Containers: [{ Name: 'app', ExitCode: 1, ImageDigest: D2 }] };
  const world = new ReleaseWorld(() => { throw stepError('States.TaskFailed', JSON.stringify(failed)); });
  // WHEN
  const run = await world.release(definition, { imageDigest: D2 });
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

  const gateStatements = () => Object.entries(template.findResources('AWS::IAM::Policy'))
    .filter(([id]) => id.startsWith('Gate'))
    .flatMap(([, p]: [string, any]) => p.Properties.PolicyDocument.Statement);
  const withAction = (action: string) => gateStatements().filter((s: any) => [s.Action].flat().includes(action));
  const utilityClusterArn = 'arn:aws:ecs:us-east-1:123456789012:cluster/utility';

  test('iam:PassRole is limited to the migration task roles, passed to ECS tasks only', () => {
    const statements = withAction('iam:PassRole');
    expect(statements).toHaveLength(1);
    expect(statements[0].Resource).toEqual([
      { 'Fn::GetAtt': [f.stack.getLogicalId(f.taskDefinition.executionRole!.node.defaultChild as any), 'Arn'] },
      { 'Fn::GetAtt': [f.stack.getLogicalId(f.taskDefinition.taskRole.node.defaultChild as any), 'Arn'] },
    ]);
    expect(statements[0].Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'ecs-tasks.amazonaws.com' } });
  });

  test('RunTask, StopTask and DescribeTasks are limited to the utility cluster', () => {
    const [runTask] = withAction('ecs:RunTask');
    expect(runTask.Resource).toEqual({ Ref: f.stack.getLogicalId(f.taskDefinition.node.defaultChild as any) });
    expect(runTask.Condition).toEqual({ ArnEquals: { 'ecs:cluster': utilityClusterArn } });
    const [stopAndDescribe] = withAction('ecs:StopTask');
    expect(stopAndDescribe.Action).toEqual(['ecs:DescribeTasks', 'ecs:StopTask']);
    expect(stopAndDescribe.Resource).toBe('arn:aws:ecs:us-east-1:123456789012:task/utility/*');
    expect(stopAndDescribe.Condition).toEqual({ ArnEquals: { 'ecs:cluster': utilityClusterArn } });
  });

  test('only actions without resource-level permissions keep "*": log delivery and X-Ray (one statement)', () => {
    const star = gateStatements().filter((s: any) => [s.Resource].flat().includes('*'));
    expect(star).toHaveLength(1);
    expect([star[0].Action].flat().every((a: string) => /^(logs:(Create|Delete|Get|List|Update)LogDeliver|logs:Describe(LogGroups|ResourcePolicies)|logs:PutResourcePolicy|xray:)/.test(a))).toBe(true);
  });

  test('tags move only in the application repository; the live digest is read and written only in its parameter', () => {
    const repositoryArn = 'arn:aws:ecr:us-east-1:123456789012:repository/rails-app';
    expect(withAction('ecr:PutImage').map((s: any) => s.Resource)).toEqual([repositoryArn]);
    expect(withAction('ecr:BatchGetImage').map((s: any) => s.Resource)).toEqual([repositoryArn]);
    const parameter = f.stack.node.findChild('Gate').node.findChild('LiveDigest').node.defaultChild as any;
    for (const action of ['ssm:GetParameter', 'ssm:PutParameter']) {
      expect(withAction(action).map((s: any) => JSON.stringify(s.Resource))).toEqual([expect.stringContaining(f.stack.getLogicalId(parameter))]);
    }
  });

  test('the queue may list the executions of this state machine only, from a policy the state machine does not depend on', () => {
    const stateMachine = f.stack.node.findChild('Gate').node.findChild('Resource').node.defaultChild as any;
    const [list] = withAction('states:ListExecutions');
    expect(list.Resource).toEqual({ Ref: f.stack.getLogicalId(stateMachine) });
    const queuePolicyId = f.stack.getLogicalId(f.stack.node.findChild('Gate').node.findChild('QueuePolicy').node.defaultChild as any);
    expect(template.toJSON().Resources[f.stack.getLogicalId(stateMachine)].DependsOn).not.toContain(queuePolicyId);
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

  test('without a tag pattern, every push except the gate own tag moves starts a release', () => {
    const g = releaseFixture();
    gate(g, { imageTagPattern: undefined });
    Template.fromStack(g.stack).hasResourceProperties('AWS::Events::Rule', {
      EventPattern: Match.objectLike({ detail: Match.objectLike({ 'image-tag': [{ 'anything-but': ['migrating', 'live'] }] }) }),
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

  test('fails without a repository (a release is a digest of it)', () => {
    const f = releaseFixture();
    expect(() => gate(f, { repository: undefined as any })).toThrow(/ReleaseStack\/Gate: repository \(undefined\) is required/);
  });

  test('fails when the tag pattern matches a tag the gate itself puts (each release would start another)', () => {
    const f = releaseFixture();
    expect(() => gate(f, { imageTagPattern: 'l*' })).toThrow(/imageTagPattern \("l\*"\) matches the tag\(s\) live the gate itself puts/);
  });

  test('fails when the migration container does not run the migration tag of the repository', () => {
    const f = releaseFixture();
    const td = new ecs.Ec2TaskDefinition(f.stack, 'PublicImageTask');
    td.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.3'), memoryReservationMiB: 64 });
    expect(() => gate(f, { taskDefinition: td })).toThrow(/taskDefinition \("ReleaseStack\/PublicImageTask\/app"\) runs another image than ReleaseStack\/Repo:migrating.*MigrationGate.migrationImage\(repository\)/);
  });

  test('the template path cannot skip the migration: a gated service running a new image by tag fails synth', () => {
    // GIVEN a service whose image a cdk deploy would change directly (a release tag instead of live)
    const f = releaseFixture();
    const td = new ecs.Ec2TaskDefinition(f.stack, 'WebTask');
    td.addContainer('web', { image: ecs.ContainerImage.fromEcrRepository(f.repository, 'release-3'), memoryReservationMiB: 64 });
    const cluster = new ecs.Cluster(f.stack, 'Cluster', { vpc: f.utilityCluster.vpc });
    const service = new ecs.Ec2Service(f.stack, 'WebService', { cluster, taskDefinition: td });
    // WHEN / THEN
    expect(() => gate(f, { services: [service] })).toThrow(/services \("ReleaseStack\/WebTask\/web"\) runs an image of ReleaseStack\/Repo other than :live, so a cdk deploy could start it without its migration/);
  });

  test('a gated service running no image of the repository fails synth (a push would not release it)', () => {
    const f = releaseFixture();
    const td = new ecs.Ec2TaskDefinition(f.stack, 'WebTask');
    td.addContainer('web', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.3-slim'), memoryReservationMiB: 64 });
    const cluster = new ecs.Cluster(f.stack, 'Cluster', { vpc: f.utilityCluster.vpc });
    const service = new ecs.Ec2Service(f.stack, 'WebService', { cluster, taskDefinition: td });
    expect(() => gate(f, { services: [service] })).toThrow(/services \("ReleaseStack\/WebService"\) runs no image of ReleaseStack\/Repo/);
  });

  test('a gated service running the live image passes', () => {
    const f = releaseFixture();
    const td = new ecs.Ec2TaskDefinition(f.stack, 'WebTask');
    td.addContainer('web', { image: MigrationGate.liveImage(f.repository), memoryReservationMiB: 64 });
    const cluster = new ecs.Cluster(f.stack, 'Cluster', { vpc: f.utilityCluster.vpc });
    const service = new ecs.Ec2Service(f.stack, 'WebService', { cluster, taskDefinition: td });
    expect(gate(f, { services: [service] }).stateMachine).toBeDefined();
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

  test('fails when the queue check interval is shorter than 5 seconds', () => {
    const f = releaseFixture();
    expect(() => gate(f, { queueCheckInterval: Duration.seconds(1) })).toThrow(/queueCheckInterval \("1 second"\) is shorter than 5 seconds/);
  });

  test('fails when the capacity retry attempts exceed 20', () => {
    const f = releaseFixture();
    expect(() => gate(f, { capacityRetryAttempts: 50 })).toThrow(/capacityRetryAttempts \(50\) must be a whole number from 0 to 20/);
  });
});
