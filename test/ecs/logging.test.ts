import { CfnResource, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as kms from 'aws-cdk-lib/aws-kms';
import { CapacityCluster, FluentdImage, LogAggregators, LogForwarder, LogOutput, LogTypeOptions } from '../../lib';
import { nagFindings } from '../support/app';
import { acknowledgedControls, clusterStack, importedCluster } from './support/fixtures';
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

  test('an S3 aggregator may only put objects under its own prefix and its own secondary-file prefix, with data keys of the bucket\'s key', () => {
    const policy = resources[idOf(aggregators.aggregatorFor('rails').taskDefinition.taskRole.node.findChild('DefaultPolicy') as never)];
    const objects = (key: string) => ({ 'Fn::Join': ['', [{ 'Fn::GetAtt': [idOf(aggregators.logBucket as never), 'Arn'] }, key]] });
    const keyArn = { 'Fn::GetAtt': [idOf(aggregators.logBucket!.encryptionKey as never), 'Arn'] };
    expect(policy.Properties.PolicyDocument).toEqual({
      Version: '2012-10-17',
      Statement: [
        // fluent-plugin-s3 puts each chunk in one request (GenerateDataKey); the shipper may upload in parts (Decrypt).
        { Action: 's3:PutObject', Effect: 'Allow', Resource: [objects('/logs/rails/*'), objects('/secondary/aggregators/rails/*')] },
        { Action: ['kms:Decrypt', 'kms:GenerateDataKey'], Effect: 'Allow', Resource: keyArn },
      ],
    });
  });

  test('the log bucket is KMS-encrypted, versioned, private, TLS-only and publishes its events to EventBridge', () => {
    const bucket = aggregators.logBucket as s3.Bucket;
    expect(resources[idOf(bucket)].Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ BucketKeyEnabled: true, ServerSideEncryptionByDefault: { SSEAlgorithm: 'aws:kms', KMSMasterKeyID: { 'Fn::GetAtt': [idOf(bucket.encryptionKey as never), 'Arn'] } } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LoggingConfiguration: { DestinationBucketName: { Ref: idOf(aggregators.node.findChild('AccessLogBucket') as s3.Bucket) }, LogFilePrefix: 'log-bucket/' },
      VersioningConfiguration: { Status: 'Enabled' },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    expect((resources[idOf(bucket)].Properties.LifecycleConfiguration as { Rules: unknown[] }).Rules).toContainEqual({ NoncurrentVersionExpiration: { NoncurrentDays: 30 }, Status: 'Enabled' });
    // Object Lock is the user's option (their own logBucket); nothing else about this bucket is exempted.
    expect(Object.keys(acknowledgedControls(bucket))).toEqual(['s3_bucket_object_lock_enabled_check']);
    expect(acknowledgedControls(bucket).s3_bucket_object_lock_enabled_check).toMatch(/^\[option `logBucket`\] /);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: idOf(bucket) },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
  });

  test('the access-log bucket is versioned and publishes to EventBridge; only SSE-KMS, its own logging and Object Lock are acknowledged', () => {
    const accessLogs = aggregators.node.findChild('AccessLogBucket') as s3.Bucket;
    expect(resources[idOf(accessLogs)].Properties).toMatchObject({
      // S3 server access logging delivers only to SSE-S3 buckets.
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    expect(Object.keys(acknowledgedControls(accessLogs)).sort()).toEqual(['s3_bucket_default_encryption_kms_check', 's3_bucket_logging_enabled_check', 's3_bucket_object_lock_enabled_check']);
  });

  test('with an encryptionKey the new log bucket uses that key and no key of its own', () => {
    const { stack, cluster } = importedCluster();
    const key = new kms.Key(stack, 'Key');
    const withKey = new LogAggregators(stack, 'Aggregators', { cluster, logTypes: [{ name: 'rails', output: LogOutput.toS3() }], encryptionKey: key });
    expect(withKey.logBucket!.encryptionKey).toBe(key);
    Template.fromStack(stack).resourceCountIs('AWS::KMS::Key', 1);
  });

  test('the forwarder is acknowledged for awsvpc networking and host-mode users, the aggregators (awsvpc) are not', () => {
    expect(Object.keys(acknowledgedControls(forwarder.taskDefinition)).sort()).toEqual([
      'ecs_awsvpc_networking_enabled_check', 'ecs_task_definition_nonroot_user_check', 'ecs_task_definition_user_for_host_mode_check',
    ]);
    for (const aggregator of aggregators.aggregators) {
      expect(Object.keys(acknowledgedControls(aggregator.taskDefinition))).toEqual(['ecs_task_definition_nonroot_user_check']);
    }
  });

  test('the cluster\'s instances may reach every aggregator on 24224, nothing else is opened', () => {
    const instanceSg = idOf(capacity.instanceSecurityGroup);
    const ingress = Object.values(resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress').map((r) => r.Properties);
    expect(ingress).toHaveLength(LOG_TYPES.length);
    for (const rule of ingress) {
      expect(rule).toMatchObject({ IpProtocol: 'tcp', FromPort: 24224, ToPort: 24224, SourceSecurityGroupId: { 'Fn::GetAtt': [instanceSg, 'GroupId'] } });
    }
  });

  test('fluentd runs as the image\'s non-root user on a read-only root after a root init container hands it the buffer folder and /tmp', () => {
    for (const td of [forwarder.taskDefinition, ...aggregators.aggregators.map((a) => a.taskDefinition)]) {
      const [init, fluentd] = containersOf(resources, idOf(td));
      expect(init).toMatchObject({ Name: 'BufferOwner', Essential: false, User: '0', MemoryReservation: 32, Memory: 64, ReadonlyRootFilesystem: true });
      expect(init.Command).toEqual(['mkdir -p /fluentd/buffer/failed && chown -R fluent:fluent /fluentd/buffer && chmod 1777 /tmp']);
      expect(fluentd).toMatchObject({ Name: 'Fluentd', Essential: true, User: 'fluent', StopTimeout: 120, ReadonlyRootFilesystem: true, Memory: expect.any(Number) });
      expect(fluentd.DependsOn).toContainEqual({ ContainerName: 'BufferOwner', Condition: 'SUCCESS' });
      // Read-only root: fluentd writes its buffers and secondary files (host folder) and /tmp (config file, Tempfiles) only.
      const mounts = [{ ContainerPath: '/fluentd/buffer', SourceVolume: 'buffer', ReadOnly: false }, { ContainerPath: '/tmp', SourceVolume: 'fluentd-tmp', ReadOnly: false }];
      expect(fluentd.MountPoints).toEqual(mounts);
      expect(init.MountPoints).toEqual(mounts);
      expect(resources[idOf(td)].Properties.Volumes).toContainEqual({ Name: 'fluentd-tmp' });
    }
  });

  test('the fluentd configuration reaches CloudFormation as one string per line, so a diff shows the lines that change', () => {
    for (const td of [forwarder.taskDefinition, ...aggregators.aggregators.map((a) => a.taskDefinition)]) {
      const fluentd = containersOf(resources, idOf(td)).find((c) => c.Name === 'Fluentd')!;
      const value = (fluentd.Environment as Array<{ Name: string; Value: unknown }>).find((e) => e.Name === 'FLUENTD_GENERATED_CONFIG')!.Value;
      expect(typeof value).not.toBe('string');
      const [delimiter, lines] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
      expect(delimiter).toBe('\n');
      expect(lines.length).toBeGreaterThan(50);
      // No element of the join spans lines: each holds one configuration line (or a token of one).
      for (const line of lines) expect(templateText(line)).not.toContain('\n');
    }
    // The forwarder's configuration holds no token: the joined lines are exactly the generated text.
    expect(configOf(resources, idOf(forwarder.taskDefinition))).toBe(forwarder.fluentdConfig);
  });

  test('fluentd telemetry reaches CloudWatch through metric filters with Fleet and PluginId dimensions', () => {
    const filters = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::MetricFilter').map((r) => r.Properties);
    // One set for the aggregators and one for the forwarder, whatever the number of log types.
    expect(filters).toHaveLength(10);
    const names = filters.map((f) => (f.MetricTransformations as Array<Record<string, unknown>>)[0].MetricName).sort();
    expect(names).toEqual(['BufferOverflows', 'BufferOverflows', 'BufferQueueLength', 'BufferQueueLength', 'BufferTotalQueuedSize', 'BufferTotalQueuedSize',
      'RetryCount', 'RetryCount', 'SecondaryFileWrites', 'SecondaryFileWrites']);
    for (const f of filters) {
      expect((f.MetricTransformations as Array<Record<string, unknown>>)[0]).toMatchObject({
        MetricNamespace: 'CdkContainerPatterns/Fluentd',
        Dimensions: [{ Key: 'Fleet', Value: '$.fleet' }, { Key: 'PluginId', Value: '$.plugin_id' }],
      });
      expect(f.FilterPattern).toMatch(/^\{ \(?\$\.fleet = "[A-Za-z0-9]+"/);
    }
    const fleetsInFilters = new Set(filters.map((f) => /\$\.fleet = "([^"]+)"/.exec(f.FilterPattern as string)![1]));
    expect(fleetsInFilters).toEqual(new Set([forwarder.telemetryFleet, aggregators.telemetryFleet]));
    // The fleet the filters select is the one the configurations write.
    expect(configOf(resources, idOf(forwarder.taskDefinition))).toContain(`fleet ${forwarder.telemetryFleet}\n`);
    expect(configOf(resources, idOf(aggregators.aggregatorFor('job').taskDefinition))).toContain(`fleet ${aggregators.telemetryFleet}\n`);
  });

  test('default alarms watch every output: buffer filling and chunks diverted, per log type', () => {
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm').map((r) => r.Properties);
    // forwarder: 3 log types + the output for unmatched tags; aggregators: 3 log types; 2 alarms each.
    expect(alarms).toHaveLength((LOG_TYPES.length + 1) * 2 + LOG_TYPES.length * 2);
    expect(forwarder.alarms).toHaveLength(8);
    expect(aggregators.alarms).toHaveLength(6);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'BufferTotalQueuedSize',
      Namespace: 'CdkContainerPatterns/Fluentd',
      Dimensions: [{ Name: 'Fleet', Value: forwarder.telemetryFleet }, { Name: 'PluginId', Value: 'forward_rails' }],
      Statistic: 'Maximum',
      Threshold: 2048 * 1024 * 1024 / 4,
      EvaluationPeriods: 5,
      TreatMissingData: 'notBreaching',
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'FILL(secondary, 0) + FILL(overflow, 0)' }),
        Match.objectLike({ Id: 'secondary', MetricStat: Match.objectLike({ Metric: Match.objectLike({ MetricName: 'SecondaryFileWrites', Dimensions: [{ Name: 'Fleet', Value: aggregators.telemetryFleet }, { Name: 'PluginId', Value: 'cloudwatch_job' }] }) }) })]),
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  test('metricXxx() name the output of one log type in the fleet', () => {
    const metric = forwarder.metricBufferQueueLength('nginx');
    expect(metric.namespace).toBe('CdkContainerPatterns/Fluentd');
    expect(metric.dimensions).toEqual({ Fleet: forwarder.telemetryFleet, PluginId: 'forward_nginx' });
    expect(forwarder.metricSecondaryFileWrites(LogForwarder.UNMATCHED_ROUTE).dimensions).toEqual({ Fleet: forwarder.telemetryFleet, PluginId: 'forward_unmatched' });
    expect(forwarder.metricRetryCount('job').metricName).toBe('RetryCount');
    expect(forwarder.metricBufferOverflows('rails').statistic).toBe('Sum');
    expect(aggregators.metricBufferTotalQueuedSize('rails').dimensions).toEqual({ Fleet: aggregators.telemetryFleet, PluginId: 's3_rails' });
    expect(aggregators.metricBufferQueueLength('job').dimensions).toEqual({ Fleet: aggregators.telemetryFleet, PluginId: 'cloudwatch_job' });
    expect(aggregators.metricSecondaryFileWrites('nginx').metricName).toBe('SecondaryFileWrites');
    expect(aggregators.metricRetryCount('nginx').statistic).toBe('Maximum');
    expect(aggregators.metricBufferOverflows('nginx').metricName).toBe('BufferOverflows');
  });

  test('metricXxx() fail for a log type that is not there', () => {
    expect(() => forwarder.metricBufferQueueLength('audit')).toThrow('logType ("audit") is not one of the forwarder\'s outputs (rails, nginx, job, unmatched)');
    expect(() => aggregators.metricBufferQueueLength('unmatched')).toThrow('logType ("unmatched") is not one of the log types (rails, nginx, job)');
  });

  test('the aggregators and the forwarder are IConnectable: the aggregators\' groups on port 24224, the forwarder as its hosts', () => {
    expect(aggregators.connections.securityGroups.map((g) => idOf(g))).toEqual(aggregators.aggregators.map((a) => idOf(a.securityGroup)));
    expect(aggregators.connections.defaultPort?.toString()).toBe('24224');
    expect(forwarder.connections).toBe(capacity.cluster.connections);
    expect([LogForwarder.PORT, LogAggregators.PORT, LogForwarder.MIN_MEMORY_MIB]).toEqual([24224, 24224, 128]);
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

  test('fails when a log type is the name of the forwarder\'s output for unmatched tags', () => {
    expect(build([{ name: 'unmatched', output: LogOutput.toS3() }])).toThrow('logTypes[0].name ("unmatched") is reserved: the forwarder\'s output for tags of no log type has this name');
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

describe('Sharing aggregators with other stacks', () => {
  test('a forwarder in another stack sends to imported aggregators and is allowed into their security groups', () => {
    // GIVEN aggregators of a central logging stack, known by their endpoints and security group
    const { stack, capacity } = clusterStack();
    const sg = ec2.SecurityGroup.fromSecurityGroupId(stack, 'AggregatorSg', 'sg-0123456789abcdef0', { allowAllOutbound: true });
    const aggregators = LogAggregators.fromLogAggregatorsAttributes(stack, 'Central', {
      endpoints: [
        { logType: 'rails', hostname: 'rails.central.internal', port: 24224 },
        { logType: 'job', hostname: 'job.central.internal', port: 24224 },
      ],
      defaultLogType: 'job',
      securityGroups: [sg],
    });
    // WHEN
    const forwarder = new LogForwarder(stack, 'Forwarder', { cluster: capacity.cluster, aggregators });
    // THEN
    const template = Template.fromStack(stack);
    const resources = template.toJSON().Resources as Resources;
    const taskDefinitionId = Stack.of(stack).resolve((forwarder.taskDefinition.node.defaultChild as CfnResource).logicalId) as string;
    const config = parseFluentdConfig(configOf(resources, taskDefinitionId));
    expect(routeOf(config, 'rails')!.children.find((c) => c.name === 'server')!.params.host).toBe('rails.central.internal');
    expect(routeOf(config, 'nginx')!.children.find((c) => c.name === 'server')!.params.host).toBe('job.central.internal');
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      GroupId: 'sg-0123456789abcdef0', IpProtocol: 'tcp', FromPort: 24224, ToPort: 24224,
      SourceSecurityGroupId: { 'Fn::GetAtt': [Stack.of(stack).resolve((capacity.instanceSecurityGroup.node.defaultChild as CfnResource).logicalId), 'GroupId'] },
    });
  });

  test('fails when imported aggregators name their default log type wrongly', () => {
    const { stack } = importedCluster();
    expect(() => LogAggregators.fromLogAggregatorsAttributes(stack, 'Central', {
      endpoints: [{ logType: 'rails', hostname: 'rails.central.internal', port: 24224 }],
      defaultLogType: 'nginx',
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')],
    })).toThrow('TestStack/Central: defaultLogType ("nginx") is not one of the endpoints\' log types (rails)');
  });

  test('fails when imported aggregators have no endpoints or no security groups', () => {
    const { stack } = importedCluster();
    expect(() => LogAggregators.fromLogAggregatorsAttributes(stack, 'None', { endpoints: [], securityGroups: [] })).toThrow('endpoints ([]) is empty');
    expect(() => LogAggregators.fromLogAggregatorsAttributes(stack, 'NoSg', { endpoints: [{ logType: 'rails', hostname: 'r.internal', port: 24224 }], securityGroups: [] }))
      .toThrow('securityGroups ([]) is empty');
  });

  test('fails when an imported endpoint is not a log type', () => {
    const { stack } = importedCluster();
    expect(() => LogAggregators.fromLogAggregatorsAttributes(stack, 'Central', {
      endpoints: [{ logType: 'Rails', hostname: 'r.internal', port: 24224 }],
      securityGroups: [ec2.SecurityGroup.fromSecurityGroupId(stack, 'Sg', 'sg-0123456789abcdef0')],
    })).toThrow('endpoints[0].logType ("Rails") is not a valid log type');
  });
});

describe('Alarms opt-out', () => {
  test('createAlarms: false creates no alarm but keeps the telemetry', () => {
    // GIVEN
    const { stack, cluster } = importedCluster();
    // WHEN
    const aggregators = new LogAggregators(stack, 'Aggregators', { cluster, logTypes: LOG_TYPES, createAlarms: false });
    const forwarder = new LogForwarder(stack, 'Forwarder', { cluster, aggregators, createAlarms: false });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 0);
    template.resourceCountIs('AWS::Logs::MetricFilter', 10);
    expect([aggregators.alarms, forwarder.alarms]).toEqual([[], []]);
  });
});
