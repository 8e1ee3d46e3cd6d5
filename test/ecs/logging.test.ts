import { CfnResource } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CapacityCluster, FluentdImage, LogAggregators, LogForwarder, LogOutput, LogTypeOptions } from '../../lib';
import { nagFindings } from '../support/app';
import { clusterStack, importedCluster } from './support/fixtures';
import { buffersOf, matchesOf, parseFluentdConfig, routeOf, templateText } from './support/fluentd-parser';

const LOG_TYPES: LogTypeOptions[] = [
  { name: 'rails', output: LogOutput.toS3() },
  { name: 'nginx', output: LogOutput.toS3() },
  { name: 'job', output: LogOutput.toCloudWatchLogs() },
];

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

function containersOf(resources: Resources, logicalId: string): Array<Record<string, unknown>> {
  return resources[logicalId].Properties.ContainerDefinitions as Array<Record<string, unknown>>;
}

function configOf(resources: Resources, taskDefinitionId: string): string {
  const fluentd = containersOf(resources, taskDefinitionId).find((c) => c.Name === 'Fluentd')!;
  const env = fluentd.Environment as Array<{ Name: string; Value: unknown }>;
  return templateText(env.find((e) => e.Name === 'FLUENTD_GENERATED_CONFIG')!.Value);
}

describe('LogAggregators and LogForwarder', () => {
  let template: Template;
  let resources: Resources;
  let aggregators: LogAggregators;
  let forwarder: LogForwarder;
  let capacity: CapacityCluster;

  beforeAll(() => {
    // GIVEN a cluster
    const fixture = clusterStack();
    capacity = fixture.capacity;
    // WHEN
    aggregators = new LogAggregators(fixture.stack, 'Aggregators', { cluster: capacity.cluster, logTypes: LOG_TYPES, capacityProviderStrategies: capacity.onDemandStrategy });
    forwarder = new LogForwarder(fixture.stack, 'Forwarder', { cluster: capacity.cluster, aggregators });
    template = Template.fromStack(fixture.stack);
    resources = template.toJSON().Resources;
  });

  const idOf = (construct: { node: { defaultChild?: unknown } }): string => {
    const child = construct.node.defaultChild as CfnResource;
    return child.stack.resolve(child.logicalId) as string;
  };

  test('the forwarder is a DAEMON service in host network mode, on the host\'s port 24224', () => {
    template.hasResourceProperties('AWS::ECS::Service', { SchedulingStrategy: 'DAEMON', TaskDefinition: { Ref: idOf(forwarder.taskDefinition) } });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      NetworkMode: 'host',
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'Fluentd', PortMappings: [{ ContainerPort: 24224, HostPort: 24224, Protocol: 'tcp' }] })]),
    });
  });

  test('each log type has its own aggregator service with at least 2 tasks spread across AZs and instances', () => {
    const services = Object.values(resources).filter((r) => r.Type === 'AWS::ECS::Service' && r.Properties.SchedulingStrategy !== 'DAEMON');
    expect(services).toHaveLength(LOG_TYPES.length);
    for (const aggregator of aggregators.aggregators) {
      const service = resources[idOf(aggregator.service)].Properties;
      expect(service.DesiredCount).toBeGreaterThanOrEqual(2);
      expect(service.PlacementStrategies).toEqual([{ Type: 'spread', Field: 'attribute:ecs.availability-zone' }]);
      expect(service.PlacementConstraints).toEqual([{ Type: 'distinctInstance' }]);
      expect(service.DeploymentConfiguration).toMatchObject({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } });
      expect(service.ServiceRegistries).toHaveLength(1);
    }
  });

  test('aggregators register A records in a private DNS namespace, one Cloud Map service per log type', () => {
    template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'logging.internal' });
    for (const name of ['rails', 'nginx', 'job']) {
      template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
        Name: name,
        DnsConfig: Match.objectLike({ DnsRecords: [{ Type: 'A', TTL: 10 }] }),
      });
    }
    expect(aggregators.aggregatorFor('nginx').hostname).toBe('nginx.logging.internal');
  });

  test('the synthesized forwarder configuration routes every log type to exactly one aggregator, on file buffers', () => {
    const config = parseFluentdConfig(configOf(resources, idOf(forwarder.taskDefinition)));
    const hostsPerType = new Map<string, string[]>();
    for (const { name } of LOG_TYPES) {
      const route = routeOf(config, name)!;
      hostsPerType.set(name, route.children.filter((c) => c.name === 'server').map((s) => s.params.host));
    }
    expect(Object.fromEntries(hostsPerType)).toEqual({
      rails: ['rails.logging.internal'], nginx: ['nginx.logging.internal'], job: ['job.logging.internal'],
    });
    expect(routeOf(config, 'unknown.tag')!.children.find((c) => c.name === 'server')!.params.host).toBe('rails.logging.internal');
    expect(buffersOf(config).map((b) => b.params['@type'])).toEqual(['file', 'file', 'file', 'file']);
  });

  test('each aggregator configuration writes its own destination from a file buffer with a secondary_file', () => {
    for (const aggregator of aggregators.aggregators) {
      const config = parseFluentdConfig(configOf(resources, idOf(aggregator.taskDefinition)));
      const [match] = matchesOf(config);
      expect(match.params['@type']).toBe(aggregator.logType === 'job' ? 'cloudwatch_logs' : 's3');
      if (aggregator.logType !== 'job') expect(match.params.path).toBe(`logs/${aggregator.logType}/%Y/%m/%d/`);
      expect(buffersOf(config)[0].params).toMatchObject({ '@type': 'file', flush_at_shutdown: 'true' });
      expect(match.children.find((c) => c.name === 'secondary')!.params['@type']).toBe('secondary_file');
    }
  });

  test('an S3 aggregator may only put objects under its own prefix', () => {
    const policy = resources[idOf(aggregators.aggregatorFor('rails').taskDefinition.taskRole.node.findChild('DefaultPolicy') as never)];
    expect(policy.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [{
        Action: 's3:PutObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(aggregators.logBucket as never), 'Arn'] }, '/logs/rails/*']] },
      }],
    });
  });

  test('the log bucket is encrypted, private and TLS-only', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the cluster\'s instances may reach every aggregator on 24224, nothing else is opened', () => {
    const instanceSg = idOf(capacity.instanceSecurityGroup);
    const ingress = Object.values(resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress').map((r) => r.Properties);
    expect(ingress).toHaveLength(LOG_TYPES.length);
    for (const rule of ingress) {
      expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 24224, ToPort: 24224, SourceSecurityGroupId: { 'Fn::GetAtt': [instanceSg, 'GroupId'] } });
    }
  });

  test('fluentd runs as the image\'s non-root user after a root init container hands it the buffer folder', () => {
    for (const td of [forwarder.taskDefinition, ...aggregators.aggregators.map((a) => a.taskDefinition)]) {
      const [init, fluentd] = containersOf(resources, idOf(td));
      expect(init).toMatchObject({ Name: 'BufferOwner', Essential: false, User: '0' });
      expect(fluentd).toMatchObject({ Name: 'Fluentd', Essential: true, User: 'fluent', StopTimeout: 120, DependsOn: [{ ContainerName: 'BufferOwner', Condition: 'SUCCESS' }] });
      expect(fluentd.MountPoints).toEqual([{ ContainerPath: '/fluentd/buffer', SourceVolume: 'buffer', ReadOnly: false }]);
    }
  });

  test('the aggregators and the forwarder have no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(aggregators)).toEqual([]);
    expect(nagFindings(forwarder)).toEqual([]);
  });

  test('images are pinned and chosen by output', () => {
    const images = [forwarder.taskDefinition, ...aggregators.aggregators.map((a) => a.taskDefinition)]
      .map((td) => containersOf(resources, idOf(td))[1].Image);
    expect(images).toEqual([FluentdImage.FORWARDER_V1_17.imageName, FluentdImage.S3_V1_17.imageName, FluentdImage.S3_V1_17.imageName, FluentdImage.CLOUDWATCH_V1_17.imageName]);
    expect(images.every((i) => typeof i === 'string' && !i.endsWith(':latest'))).toBe(true);
  });
});

describe('LogAggregators validation', () => {
  const build = (logTypes: LogTypeOptions[], extra: Record<string, unknown> = {}) => {
    const { stack, cluster } = importedCluster();
    return () => new LogAggregators(stack, 'Aggregators', { cluster, logTypes, ...extra });
  };

  test.each([
    ['Rails'],
    ['rails-app'],
    ['rails.web'],
    ['9lives'],
    [''],
  ])('fails when a log type is not a valid fluentd tag part: "%s"', (name) => {
    expect(build([{ name, output: LogOutput.toS3() }])).toThrow(`logTypes[0].name (${JSON.stringify(name)}) is not a valid log type`);
  });

  test('fails when a log type is fluentd\'s own tag', () => {
    expect(build([{ name: 'fluent', output: LogOutput.toS3() }])).toThrow('logTypes[0].name ("fluent") is reserved');
  });

  test('fails when a log type is listed twice', () => {
    expect(build([{ name: 'rails', output: LogOutput.toS3() }, { name: 'rails', output: LogOutput.toCloudWatchLogs() }]))
      .toThrow('logTypes[].name (["rails"]) occur more than once');
  });

  test('fails when there are no log types', () => {
    expect(build([])).toThrow('logTypes ([]) is empty');
  });

  test('fails when a log type has fewer than 2 aggregators without the explicit opt-out', () => {
    expect(build([{ name: 'rails', output: LogOutput.toS3(), aggregatorCount: 1 }]))
      .toThrow('Aggregators: logTypes[0].aggregatorCount (1) must be at least 2 so that one failed aggregator does not stop the "rails" logs. Raise it to 2 or more, or set allowSingleAggregator: true');
  });

  test('accepts a single aggregator when allowSingleAggregator is set', () => {
    const aggregators = build([{ name: 'rails', output: LogOutput.toS3(), aggregatorCount: 1, allowSingleAggregator: true }])();
    expect(aggregators.aggregatorFor('rails').service.node.defaultChild).toBeDefined();
  });

  test('fails when the default log type is not a log type', () => {
    expect(build(LOG_TYPES, { defaultLogType: 'audit' })).toThrow('defaultLogType ("audit") is not one of the log types (rails, nginx, job)');
  });

  test('fails when two S3 prefixes in the shared bucket overlap', () => {
    expect(build([{ name: 'rails', output: LogOutput.toS3({ prefix: 'logs/' }) }, { name: 'job', output: LogOutput.toS3() }]))
      .toThrow('logTypes[].output.prefix (["logs/", "logs/job/"]) overlap in the same bucket');
  });

  test('an S3 output to the user\'s bucket and prefix is granted that prefix only, and no shared bucket is made', () => {
    // GIVEN
    const { stack, cluster } = importedCluster();
    const bucket = s3.Bucket.fromBucketName(stack, 'Audit', 'audit-logs');
    // WHEN
    const aggregators = new LogAggregators(stack, 'Aggregators', { cluster, logTypes: [{ name: 'audit', output: LogOutput.toS3({ bucket, prefix: 'ecs/audit/' }) }] });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::S3::Bucket', 0);
    expect(aggregators.logBucket).toBeUndefined();
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: { Statement: [{ Action: 's3:PutObject', Effect: 'Allow', Resource: 'arn:aws:s3:::audit-logs/ecs/audit/*' }] },
    });
  });

  test('fails when an S3 prefix is not a folder path', () => {
    expect(build([{ name: 'rails', output: LogOutput.toS3({ prefix: '/logs' }) }])).toThrow('logTypes[0].output.prefix ("/logs") must be one or more path segments each ending in "/"');
  });

  test('fails when aggregator memory is below 256 MiB', () => {
    expect(build([{ name: 'rails', output: LogOutput.toS3(), memoryLimitMiB: 128 }])).toThrow('logTypes[0].memoryLimitMiB (128) must be a whole number from 256 to 30720');
  });
});

describe('LogForwarder validation', () => {
  test('fails when the forwarder memory is too small', () => {
    // GIVEN
    const { stack, cluster } = importedCluster();
    const aggregators = new LogAggregators(stack, 'Aggregators', { cluster, logTypes: LOG_TYPES });
    // WHEN / THEN
    expect(() => new LogForwarder(stack, 'Forwarder', { cluster, aggregators, memoryLimitMiB: 64 }))
      .toThrow('TestStack/Forwarder: memoryLimitMiB (64) is too small for a fluentd forwarder (at least 128 MiB)');
  });

  test('uses another image when asked, with its fluentd arguments', () => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    const aggregators = new LogAggregators(stack, 'Aggregators', { cluster: capacity.cluster, logTypes: LOG_TYPES });
    // WHEN
    const forwarder = new LogForwarder(stack, 'Forwarder', { cluster: capacity.cluster, aggregators, image: FluentdImage.of('example.com/fluentd:1.17.1', ['--no-supervisor']) });
    // THEN
    const container = forwarder.taskDefinition.findContainer('Fluentd') as ecs.ContainerDefinition;
    expect(container.imageName).toBe('example.com/fluentd:1.17.1');
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: Match.arrayWith([Match.objectLike({ Name: 'Fluentd', Command: [Match.stringLikeRegexp('exec fluentd -c /tmp/fluentd-generated.conf --no-supervisor$')] })]),
    });
  });
});
