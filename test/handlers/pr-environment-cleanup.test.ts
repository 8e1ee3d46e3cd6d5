import { CloudFormationClient, CreateStackCommand, DescribeStacksCommand, Stack } from '@aws-sdk/client-cloudformation';
import { CloudFormationSender, cleanUp, parseIsoDuration } from '../../handlers/pr-environment-cleanup/cleanup';
import { MotoServer, startMoto } from '../support/moto';
import { CapturedLogger, captureLogger } from './scaling-support/logs';

const TEMPLATE = JSON.stringify({ Resources: { Queue: { Type: 'AWS::SQS::Queue' } } });
const DAY = 86400_000;

describe('pull-request environment clean-up against moto CloudFormation', () => {
  let moto: MotoServer;
  let cfn: CloudFormationClient;
  let log: CapturedLogger;

  beforeAll(async () => {
    moto = await startMoto();
    cfn = new CloudFormationClient({ ...moto.clientConfig, maxAttempts: 1 });
  });
  afterAll(async () => moto?.stop());
  beforeEach(async () => {
    await moto.reset();
    log = captureLogger();
  });
  afterEach(() => log.restore());

  const create = async (name: string, tags: Record<string, string>) => {
    await cfn.send(new CreateStackCommand({ StackName: name, TemplateBody: TEMPLATE, Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) }));
  };
  const existing = async (): Promise<string[]> => {
    const stacks = (await cfn.send(new DescribeStacksCommand({}))).Stacks ?? [];
    return stacks.filter((s) => s.StackStatus !== 'DELETE_COMPLETE').map((s) => s.StackName!).sort();
  };
  const inDays = (days: number) => new Date(Date.now() + days * DAY);

  test('deletes PR stacks past cleanup-after, keeps younger ones and never touches untagged stacks; says what it removed', async () => {
    await create('pr-101', { 'pr-number': '101', 'cleanup-after': 'P7D' });
    await create('pr-102', { 'pr-number': '102', 'cleanup-after': 'P30D' });
    await create('staging', { environment: 'staging' });
    const result = await cleanUp(cfn, log.logger, inDays(8));
    expect(result.deleted.map((d) => [d.stackName, d.pr])).toEqual([['pr-101', '101']]);
    expect(result.kept).toEqual(['pr-102']);
    expect(await existing()).toEqual(['pr-102', 'staging']);
    const removal = log.lines().find((l) => l.message === 'deleting an expired pull-request environment')!;
    expect(removal).toMatchObject({ stackName: 'pr-101', pr: '101', cleanupAfter: 'P7D' });
    expect(log.lines().at(-1)).toMatchObject({ message: 'pull-request environment clean-up finished', deleted: ['pr-101'] });
  });

  test('nothing is due: deletes nothing', async () => {
    await create('pr-103', { 'pr-number': '103', 'cleanup-after': 'P7D' });
    const result = await cleanUp(cfn, log.logger, inDays(1));
    expect(result.deleted).toEqual([]);
    expect(await existing()).toEqual(['pr-103']);
  });

  test.each([
    ['a malformed duration', 'seven days', /not an ISO 8601 duration/],
    ['a duration out of range (1 minute)', 'PT1M', /from 1 hour to 90 days/],
    ['an ambiguous month duration', 'P1M', /not an ISO 8601 duration/],
    ['an empty duration', '', /not an ISO 8601 duration/],
  ])('skips a stack with %s in cleanup-after, and logs why', async (_case, value, reason) => {
    await create('pr-104', { 'pr-number': '104', 'cleanup-after': value });
    const result = await cleanUp(cfn, log.logger, inDays(365));
    expect(result.deleted).toEqual([]);
    expect(result.skipped[0].reason).toMatch(reason);
    expect(await existing()).toEqual(['pr-104']);
    expect(log.problems()).toMatch(/skipping a pull-request stack/);
  });

  test('skips a stack whose pr-number tag is not a number', async () => {
    await create('pr-x', { 'pr-number': 'main', 'cleanup-after': 'P1D' });
    const result = await cleanUp(cfn, log.logger, inDays(365));
    expect(result.skipped).toEqual([{ stackName: 'pr-x', reason: 'pr-number tag "main" is not a pull request number' }]);
    expect(await existing()).toEqual(['pr-x']);
  });

  test('concurrent runs delete each expired stack and nothing else', async () => {
    await create('pr-105', { 'pr-number': '105', 'cleanup-after': 'P1D' });
    await create('pr-106', { 'pr-number': '106', 'cleanup-after': 'P60D' });
    const results = await Promise.all([cleanUp(cfn, log.logger, inDays(2)), cleanUp(cfn, log.logger, inDays(2))]);
    expect(results.every((r) => r.failed.length === 0 && !r.listingFailed)).toBe(true);
    expect(await existing()).toEqual(['pr-106']);
  });
});

describe('pull-request environment clean-up fault matrix (injected CloudFormation answers)', () => {
  let log: CapturedLogger;
  beforeEach(() => { log = captureLogger(); });
  afterEach(() => log.restore());

  const now = new Date('2026-12-01T00:00:00Z');
  const old = new Date('2026-11-01T00:00:00Z');
  const prStack = (name: string, extra: Partial<Stack> = {}): Stack => ({
    StackName: name, StackId: `arn:aws:cloudformation:us-east-1:123456789012:stack/${name}/1`, StackStatus: 'CREATE_COMPLETE', CreationTime: old,
    Tags: [{ Key: 'pr-number', Value: '7' }, { Key: 'cleanup-after', Value: 'P7D' }], ...extra,
  } as Stack);
  const fake = (pages: (() => unknown)[], onDelete: (id: string) => unknown = () => ({})): CloudFormationSender & { deletes: string[] } => {
    const deletes: string[] = [];
    let page = 0;
    return {
      deletes,
      send: async (command) => {
        if (command.constructor.name === 'DescribeStacksCommand') return pages[page++]();
        const id = (command.input as { StackName: string }).StackName;
        deletes.push(id);
        return onDelete(id);
      },
    };
  };
  const error = (name: string, message = name) => Object.assign(new Error(message), { name });

  test('a listing error deletes nothing and logs why', async () => {
    const cfn = fake([() => { throw error('ValidationError', 'boom'); }]);
    const result = await cleanUp(cfn, log.logger, now);
    expect(result.listingFailed).toBe(true);
    expect(cfn.deletes).toEqual([]);
    expect(log.problems()).toMatch(/listing the stacks failed; deleting nothing/);
  });

  test('throttling on the second page deletes nothing, even from the first page', async () => {
    const cfn = fake([() => ({ Stacks: [prStack('pr-7')], NextToken: 't' }), () => { throw error('Throttling', 'Rate exceeded'); }]);
    const result = await cleanUp(cfn, log.logger, now);
    expect(result.listingFailed).toBe(true);
    expect(cfn.deletes).toEqual([]);
    expect(log.problems()).toMatch(/throttled the stack listing/);
  });

  test('reads every page, and deletes by stack id', async () => {
    const cfn = fake([() => ({ Stacks: [prStack('pr-7')], NextToken: 't' }), () => ({ Stacks: [prStack('pr-8')] })]);
    const result = await cleanUp(cfn, log.logger, now);
    expect(result.deleted.map((d) => d.stackName)).toEqual(['pr-7', 'pr-8']);
    expect(cfn.deletes).toEqual([prStack('pr-7').StackId, prStack('pr-8').StackId]);
  });

  test('one failed deletion does not stop the others, and is logged', async () => {
    const cfn = fake([() => ({ Stacks: [prStack('pr-7'), prStack('pr-8')] })], (id) => { if (id.includes('pr-7')) throw error('AccessDenied', 'not allowed'); return {}; });
    const result = await cleanUp(cfn, log.logger, now);
    expect(result.failed).toEqual([{ stackName: 'pr-7', reason: 'not allowed' }]);
    expect(result.deleted.map((d) => d.stackName)).toEqual(['pr-8']);
    expect(log.problems()).toMatch(/deleting an expired pull-request environment failed/);
  });

  test.each([
    ['busy (UPDATE_IN_PROGRESS)', { StackStatus: 'UPDATE_IN_PROGRESS' }, /stack is UPDATE_IN_PROGRESS/],
    ['already deleting', { StackStatus: 'DELETE_IN_PROGRESS' }, /stack is DELETE_IN_PROGRESS/],
    ['without a creation time (partial answer)', { CreationTime: undefined }, /no valid creation or update time/],
    ['with a creation time in the future', { CreationTime: new Date('2027-06-01T00:00:00Z') }, /no valid creation or update time/],
  ])('skips a stack %s and logs why', async (_case, extra, reason) => {
    const cfn = fake([() => ({ Stacks: [prStack('pr-7', extra as Partial<Stack>)] })]);
    const result = await cleanUp(cfn, log.logger, now);
    expect(cfn.deletes).toEqual([]);
    expect(result.skipped[0].reason).toMatch(reason);
    expect(log.problems()).toMatch(/skipping a pull-request stack/);
  });

  test('counts from the last update, not the creation', async () => {
    const cfn = fake([() => ({ Stacks: [prStack('pr-7', { LastUpdatedTime: new Date('2026-11-28T00:00:00Z') })] })]);
    const result = await cleanUp(cfn, log.logger, now);
    expect(result.kept).toEqual(['pr-7']);
    expect(cfn.deletes).toEqual([]);
  });

  test('parses the durations Duration.toIsoString() writes', () => {
    expect(parseIsoDuration('P7D')).toBe(7 * 86400);
    expect(parseIsoDuration('PT1H')).toBe(3600);
    expect(parseIsoDuration('P1DT2H30M')).toBe(86400 + 2 * 3600 + 1800);
    expect(parseIsoDuration('P')).toBeUndefined();
    expect(parseIsoDuration('PT')).toBeUndefined();
    expect(parseIsoDuration('-P1D')).toBeUndefined();
  });
});
