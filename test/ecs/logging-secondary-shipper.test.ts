import { ChildProcess, execFileSync, spawn } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { FluentdImage, LogAggregators, LogForwarder, LogOutput, LogTypeOptions } from '../../lib';
import { SHIPPER_SCRIPT } from '../../lib/ecs/logging/private/secondary-shipper';
import { nagFindings } from '../support/app';
import { importedCluster } from './support/fixtures';

const LOG_TYPES: LogTypeOptions[] = [
  { name: 'rails', output: LogOutput.toS3() },
  { name: 'job', output: LogOutput.toCloudWatchLogs() },
];

type Container = Record<string, unknown>;

function idOf(construct: { node: { defaultChild?: unknown } }): string {
  const child = construct.node.defaultChild as CfnResource;
  return child.stack.resolve(child.logicalId) as string;
}

function containersOf(template: Template, taskDefinition: { node: { defaultChild?: unknown } }): Container[] {
  return template.toJSON().Resources[idOf(taskDefinition)].Properties.ContainerDefinitions as Container[];
}

function environmentOf(container: Container): Record<string, unknown> {
  return Object.fromEntries((container.Environment as Array<{ Name: string; Value: unknown }>).map((e) => [e.Name, e.Value]));
}

describe('secondary files are shipped to S3 by a sidecar', () => {
  let stack: Stack;
  let template: Template;
  let aggregators: LogAggregators;
  let forwarder: LogForwarder;

  beforeAll(() => {
    // GIVEN
    const fixture = importedCluster();
    stack = fixture.stack;
    // WHEN
    aggregators = new LogAggregators(stack, 'Aggregators', { cluster: fixture.cluster, logTypes: LOG_TYPES });
    forwarder = new LogForwarder(stack, 'Forwarder', { cluster: fixture.cluster, aggregators });
    template = Template.fromStack(stack);
  });

  test('every fluentd task has a non-essential, read-only, capability-dropped shipper that fluentd waits for', () => {
    for (const td of [forwarder.taskDefinition, ...aggregators.aggregators.map((a) => a.taskDefinition)]) {
      const containers = containersOf(template, td);
      const shipper = containers.find((c) => c.Name === 'SecondaryFileShipper')!;
      const fluentd = containers.find((c) => c.Name === 'Fluentd')!;
      expect(shipper).toMatchObject({
        Image: FluentdImage.SECONDARY_FILE_SHIPPER_IMAGE,
        Essential: false,
        ReadonlyRootFilesystem: true,
        User: '0',
        MemoryReservation: 64,
        Memory: 192,
        StopTimeout: 60,
        EntryPoint: ['sh', '-c'],
        Command: [SHIPPER_SCRIPT],
        LinuxParameters: { Capabilities: { Drop: ['ALL'], Add: ['DAC_OVERRIDE'] } },
        DependsOn: [{ ContainerName: 'BufferOwner', Condition: 'SUCCESS' }],
      });
      expect(shipper.MountPoints).toEqual([
        { ContainerPath: '/fluentd/buffer', SourceVolume: 'buffer', ReadOnly: false },
        { ContainerPath: '/tmp', SourceVolume: 'shipper-scratch', ReadOnly: false },
      ]);
      expect(environmentOf(shipper)).toMatchObject({ SOURCE_DIR: '/fluentd/buffer/failed', INTERVAL_SECONDS: '300', MIN_AGE_SECONDS: '60', HOME: '/tmp', AWS_DEFAULT_REGION: stack.region });
      // fluentd depends on the shipper, so ECS stops fluentd first and the shipper's SIGTERM pass sees fluentd's last writes.
      expect(fluentd.DependsOn).toContainEqual({ ContainerName: 'SecondaryFileShipper', Condition: 'START' });
    }
  });

  test('the image is pinned to a version, not latest', () => {
    expect(FluentdImage.SECONDARY_FILE_SHIPPER_IMAGE).toMatch(/^public\.ecr\.aws\/aws-cli\/aws-cli:\d+\.\d+\.\d+$/);
  });

  test('forwarders and each aggregator ship under their own prefix of the log bucket', () => {
    const bucket = { Ref: idOf(aggregators.logBucket as never) };
    const destinationOf = (td: { node: { defaultChild?: unknown } }) => environmentOf(containersOf(template, td).find((c) => c.Name === 'SecondaryFileShipper')!).DESTINATION;
    expect(destinationOf(forwarder.taskDefinition)).toEqual({ 'Fn::Join': ['', ['s3://', bucket, `/secondary/forwarders/${forwarder.telemetryFleet}/`]] });
    expect(destinationOf(aggregators.aggregatorFor('rails').taskDefinition)).toEqual({ 'Fn::Join': ['', ['s3://', bucket, '/secondary/aggregators/rails/']] });
    expect(destinationOf(aggregators.aggregatorFor('job').taskDefinition)).toEqual({ 'Fn::Join': ['', ['s3://', bucket, '/secondary/aggregators/job/']] });
    expect(forwarder.secondaryFileBucket).toBe(aggregators.logBucket);
  });

  test('the forwarder task role may put objects under its own secondary prefix, with data keys of the bucket\'s key, and nothing else', () => {
    const policy = template.toJSON().Resources[idOf(forwarder.taskDefinition.taskRole.node.findChild('DefaultPolicy') as never)];
    expect(policy.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Action: 's3:PutObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(aggregators.logBucket as never), 'Arn'] }, `/secondary/forwarders/${forwarder.telemetryFleet}/*`]] },
      }, {
        // The new log bucket is SSE-KMS; `aws s3 mv` completes multipart uploads with kms:Decrypt.
        Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [idOf(aggregators.logBucket!.encryptionKey as never), 'Arn'] },
      }],
    });
  });

  test('a CloudWatch aggregator gets only its own secondary prefix of the bucket', () => {
    const policy = template.toJSON().Resources[idOf(aggregators.aggregatorFor('job').taskDefinition.taskRole.node.findChild('DefaultPolicy') as never)];
    const s3Statements = (policy.Properties.PolicyDocument.Statement as Array<{ Action: unknown; Resource: unknown }>).filter((s) => JSON.stringify(s.Action).includes('s3:'));
    expect(s3Statements).toEqual([{
      Action: 's3:PutObject',
      Effect: 'Allow',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(aggregators.logBucket as never), 'Arn'] }, '/secondary/aggregators/job/*']] },
    }]);
  });

  test('cdk-nag finds nothing unacknowledged in the shippers\' grants', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('with a KMS-encrypted bucket the shippers may generate data keys of that key (and decrypt, for multipart uploads), nothing more', () => {
    // GIVEN
    const { stack: kmsStack, cluster } = importedCluster();
    const key = new kms.Key(kmsStack, 'Key');
    const bucket = new s3.Bucket(kmsStack, 'Bucket', { encryption: s3.BucketEncryption.KMS, encryptionKey: key });
    // WHEN
    const kmsAggregators = new LogAggregators(kmsStack, 'Aggregators', { cluster, logTypes: [{ name: 'job', output: LogOutput.toCloudWatchLogs() }], secondaryFileBucket: bucket });
    const kmsForwarder = new LogForwarder(kmsStack, 'Forwarder', { cluster, aggregators: kmsAggregators });
    // THEN
    const resources = Template.fromStack(kmsStack).toJSON().Resources;
    const policy = resources[idOf(kmsForwarder.taskDefinition.taskRole.node.findChild('DefaultPolicy') as never)];
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual({
      Action: ['kms:Decrypt', 'kms:GenerateDataKey'],
      Effect: 'Allow',
      Resource: { 'Fn::GetAtt': [idOf(key), 'Arn'] },
    });
  });

  test('without any bucket there is no shipper and synth warns that secondary files stay on the host', () => {
    // GIVEN
    const { stack: cwStack, cluster } = importedCluster();
    // WHEN
    const cwAggregators = new LogAggregators(cwStack, 'Aggregators', { cluster, logTypes: [{ name: 'job', output: LogOutput.toCloudWatchLogs() }] });
    const cwForwarder = new LogForwarder(cwStack, 'Forwarder', { cluster, aggregators: cwAggregators });
    // THEN
    const cwTemplate = Template.fromStack(cwStack);
    expect(cwAggregators.secondaryFileBucket).toBeUndefined();
    for (const td of [cwForwarder.taskDefinition, cwAggregators.aggregatorFor('job').taskDefinition]) {
      expect(containersOf(cwTemplate, td).map((c) => c.Name)).toEqual(['BufferOwner', 'Fluentd']);
    }
    const warnings = Annotations.fromStack(cwStack).findWarning('*', Match.stringLikeRegexp('secondary files, so those stay on the host'));
    expect(warnings.map((w) => w.id).sort()).toEqual(['/TestStack/Aggregators/Job', '/TestStack/Forwarder']);
  });

  test('an explicit secondaryFileBucket on the forwarder wins over the aggregators\' bucket', () => {
    // GIVEN
    const { stack: ownStack, cluster } = importedCluster();
    const own = s3.Bucket.fromBucketName(ownStack, 'Own', 'own-bucket');
    const imported = LogAggregators.fromLogAggregatorsAttributes(ownStack, 'Imported', {
      endpoints: [{ logType: 'rails', hostname: 'rails.logging.internal', port: 24224 }],
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(ownStack, 'AggregatorSg', 'sg-0a1b2c3d4e5f67890')],
    });
    // WHEN
    const ownForwarder = new LogForwarder(ownStack, 'Forwarder', { cluster, aggregators: imported, secondaryFileBucket: own });
    // THEN
    expect(ownForwarder.secondaryFileBucket).toBe(own);
    Template.fromStack(ownStack).hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 's3:PutObject', Effect: 'Allow', Resource: `arn:aws:s3:::own-bucket/secondary/forwarders/${ownForwarder.telemetryFleet}/*` }] },
    });
  });

  test('fails when an output prefix lies under secondary/', () => {
    const { stack: badStack, cluster } = importedCluster();
    expect(() => new LogAggregators(badStack, 'Aggregators', { cluster, logTypes: [{ name: 'rails', output: LogOutput.toS3({ prefix: 'secondary/rails/' }) }] }))
      .toThrow('logTypes[0].output.prefix ("secondary/rails/") starts with "secondary/"');
  });
});

describe('the shipper loop, run with a stand-in aws on PATH', () => {
  let dir: string;
  let source: string;
  let calls: string;
  let child: ChildProcess | undefined;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shipper-'));
    source = path.join(dir, 'failed');
    calls = path.join(dir, 'calls.log');
    fs.mkdirSync(path.join(dir, 'bin'));
    // Records every call; "moves" the file like aws s3 mv (upload, then remove) unless told to fail.
    fs.writeFileSync(path.join(dir, 'bin', 'aws'), [
      '#!/bin/sh',
      `echo "$*" >> '${calls}'`,
      `if [ -e '${dir}/fail' ]; then echo "upload failed: throttled" >&2; exit 1; fi`,
      'rm "$4"',
    ].join('\n'), { mode: 0o755 });
    fs.mkdirSync(path.join(source, 'forward_rails'), { recursive: true });
    fs.mkdirSync(path.join(source, 'forward_nginx'), { recursive: true });
  });

  afterEach(() => {
    if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const oldFile = (rel: string) => {
    const file = path.join(source, rel);
    fs.writeFileSync(file, 'chunk');
    const twoMinutesAgo = new Date(Date.now() - 120_000);
    fs.utimesSync(file, twoMinutesAgo, twoMinutesAgo);
    return file;
  };
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const readCalls = () => (fs.existsSync(calls) ? fs.readFileSync(calls, 'utf8').trim().split('\n').filter(Boolean) : []);

  function start(): { stdout: () => string; stderr: () => string; exited: Promise<number | null> } {
    let out = '';
    let err = '';
    child = spawn('sh', ['-c', SHIPPER_SCRIPT], {
      env: { PATH: `${path.join(dir, 'bin')}:${process.env.PATH}`, SOURCE_DIR: source, DESTINATION: 's3://bucket/secondary/forwarders/f/', INTERVAL_SECONDS: '1', MIN_AGE_SECONDS: '60' },
    });
    child.stdout!.on('data', (d) => { out += String(d); });
    child.stderr!.on('data', (d) => { err += String(d); });
    const exited = new Promise<number | null>((resolve) => child!.on('exit', (code) => resolve(code)));
    return { stdout: () => out, stderr: () => err, exited };
  }

  test('passes sh -n', () => {
    expect(() => execFileSync('sh', ['-n', '-c', SHIPPER_SCRIPT])).not.toThrow();
  });

  test('moves each completed file once, leaves files younger than a minute, and ships those on SIGTERM', async () => {
    // GIVEN
    const old = oldFile('forward_rails/dump.bin.0');
    const young = path.join(source, 'forward_nginx', 'dump.bin.0');
    fs.writeFileSync(young, 'chunk in progress');
    // WHEN
    const run = start();
    await sleep(3500);
    // THEN: three passes or more ran, the old file was moved once, the young one waits
    expect(fs.existsSync(old)).toBe(false);
    expect(fs.existsSync(young)).toBe(true);
    const beforeStop = readCalls();
    expect(beforeStop).toHaveLength(1);
    expect(beforeStop[0]).toMatch(new RegExp(`^s3 mv --only-show-errors ${old} s3://bucket/secondary/forwarders/f/[^/]+/forward_rails/\\d{8}T\\d{6}Z-dump\\.bin\\.0$`));
    // WHEN the task stops
    child!.kill('SIGTERM');
    // THEN the last pass ships the young file too, and the loop exits cleanly
    expect(await run.exited).toBe(0);
    expect(fs.existsSync(young)).toBe(false);
    const all = readCalls();
    expect(all).toHaveLength(2);
    expect(all[1]).toContain('/forward_nginx/');
    expect(run.stdout()).toContain(`secondary file shipped: ${young}`);
  }, 20_000);

  test('keeps a file whose upload fails, says so, and retries it on the next pass', async () => {
    // GIVEN S3 refuses
    fs.writeFileSync(path.join(dir, 'fail'), '');
    const old = oldFile('forward_rails/dump.bin.0');
    // WHEN
    const run = start();
    await sleep(2500);
    // THEN the file is still there, every pass tried it, and the reason is logged
    expect(fs.existsSync(old)).toBe(true);
    expect(readCalls().length).toBeGreaterThanOrEqual(2);
    expect(run.stderr()).toContain(`secondary file NOT shipped, kept for the next pass: ${old}`);
    expect(run.stderr()).toContain('upload failed: throttled');
    // WHEN S3 is back
    fs.rmSync(path.join(dir, 'fail'));
    await sleep(2000);
    // THEN it is moved and not tried again
    expect(fs.existsSync(old)).toBe(false);
    const attempts = readCalls().length;
    await sleep(1500);
    expect(readCalls()).toHaveLength(attempts);
    child!.kill('SIGTERM');
    expect(await run.exited).toBe(0);
  }, 20_000);

  test('an empty folder makes no calls', async () => {
    const run = start();
    await sleep(1500);
    child!.kill('SIGTERM');
    expect(await run.exited).toBe(0);
    expect(readCalls()).toEqual([]);
  }, 10_000);
});
