import { CfnResource, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { PLACEHOLDER_CERTIFICATE_ARN, RailsOnEcsStack } from '../../examples/rails-on-ecs/rails-on-ecs-stack';
import { EksV2Checks } from '../../lib';
import { nagFindings, testApp } from '../support/app';
import { maskAssetHashes } from '../support/snapshot';
import { cfnLintFindings } from '../support/cfn-lint';
import { buffersOf, matchesOf, parseFluentdConfig, routeOf, templateText } from '../ecs/support/fluentd-parser';

type Resource = { Type: string; Properties: Record<string, unknown> };
type Container = { Name: string; LogConfiguration?: { LogDriver: string; Options?: Record<string, string> }; Environment?: Array<{ Name: string; Value: unknown }> };

const LOG_TYPES = ['rails', 'nginx', 'job'];

describe('RailsOnEcs example', () => {
  let stack: RailsOnEcsStack;
  let template: Template;
  let resources: Record<string, Resource>;
  const idOf = (construct: { node: { defaultChild?: unknown } }): string => {
    const child = construct.node.defaultChild as CfnResource;
    return stack.resolve(child.logicalId) as string;
  };
  const containersOf = (taskDefinitionId: string): Container[] => resources[taskDefinitionId].Properties.ContainerDefinitions as Container[];
  const configOf = (taskDefinitionId: string) => {
    const fluentd = containersOf(taskDefinitionId).find((c) => c.Name === 'Fluentd')!;
    return parseFluentdConfig(templateText(fluentd.Environment!.find((e) => e.Name === 'FLUENTD_GENERATED_CONFIG')!.Value));
  };

  beforeAll(() => {
    stack = new RailsOnEcsStack(testApp(), 'RailsOnEcs');
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
  });

  test('matches the snapshot', () => {
    expect(maskAssetHashes(template.toJSON())).toMatchSnapshot();
  });

  test('turns on the Control Tower options: HTTPS with a redirect, read-only application roots, a non-root proxy, alarm actions', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS', Certificates: [{ CertificateArn: PLACEHOLDER_CERTIFICATE_ARN }] });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 80, DefaultActions: [{ Type: 'redirect', RedirectConfig: { Port: '443', Protocol: 'HTTPS', StatusCode: 'HTTP_301' } }] });
    for (const td of [stack.webTaskDefinition, stack.workerTaskDefinition]) {
      for (const container of containersOf(idOf(td)) as Array<Container & { ReadonlyRootFilesystem?: boolean; User?: string; Memory?: number }>) {
        expect(container).toMatchObject({ ReadonlyRootFilesystem: true, User: expect.stringMatching(/^[1-9]/), Memory: expect.any(Number) });
      }
    }
    const alarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm');
    expect(alarms.filter((a) => !a.Properties.AlarmActions)).toEqual([]);
    const insights = Object.values(resources).filter((r) => r.Type === 'AWS::ECS::Cluster').map((r) => r.Properties.ClusterSettings);
    // The worker watchdog reads per-task memory, which only enhanced observability reports.
    expect(insights).toEqual([[{ Name: 'containerInsights', Value: 'enhanced' }], [{ Name: 'containerInsights', Value: 'enhanced' }]]);
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('has no unacknowledged cdk-nag findings before synthesis either, as the nag gate inspects it', () => {
    // GIVEN a fresh stack that is never synthesized (no aspects have run)
    const fresh = new RailsOnEcsStack(testApp(), 'RailsOnEcs');
    // THEN
    expect(nagFindings(fresh)).toEqual([]);
    expect(nagFindings(fresh, new EksV2Checks())).toEqual([]);
  });

  test('passes cfn-lint', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });

  test('runs an application and a utility cluster, with a web and a worker service in the application cluster', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 2);
    expect(resources[idOf(stack.webService)].Properties.Cluster).toEqual({ Ref: idOf(stack.applicationCluster) });
    expect(resources[idOf(stack.workerService)].Properties.Cluster).toEqual({ Ref: idOf(stack.applicationCluster) });
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
  });

  test('no application container uses a fluentd log driver that is not async', () => {
    const fluentdContainers = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ECS::TaskDefinition')
      .flatMap((r) => r.Properties.ContainerDefinitions as Container[])
      .filter((c) => c.LogConfiguration?.LogDriver === 'fluentd');
    expect(fluentdContainers.map((c) => c.Name).sort()).toEqual(['app', 'app', 'app', 'proxy']);
    for (const c of fluentdContainers) {
      expect(c.LogConfiguration!.Options).toMatchObject({ 'fluentd-async': 'true', 'fluentd-address': '127.0.0.1:24224' });
    }
    const tags = [stack.webTaskDefinition, stack.workerTaskDefinition]
      .flatMap((td) => containersOf(idOf(td)).map((c) => `${c.Name}:${c.LogConfiguration!.Options!.tag}`));
    expect(tags).toEqual(['app:rails', 'proxy:nginx', 'app:job']);
  });

  test('a forwarder DAEMON service runs on each cluster', () => {
    const daemons = Object.values(resources).filter((r) => r.Type === 'AWS::ECS::Service' && r.Properties.SchedulingStrategy === 'DAEMON');
    expect(daemons.map((d) => d.Properties.Cluster)).toEqual([{ Ref: idOf(stack.applicationCluster) }, { Ref: idOf(stack.utilityCluster) }]);
  });

  test('every forwarder and aggregator task ships its secondary files to its own prefix of the log bucket', () => {
    const bucket = { Ref: idOf(stack.aggregators.logBucket as never) };
    const expected: Array<[{ node: { defaultChild?: unknown } }, string]> = [
      [stack.applicationForwarder.taskDefinition, `/secondary/forwarders/${stack.applicationForwarder.telemetryFleet}/`],
      [stack.utilityForwarder.taskDefinition, `/secondary/forwarders/${stack.utilityForwarder.telemetryFleet}/`],
      ...LOG_TYPES.map((t): [{ node: { defaultChild?: unknown } }, string] => [stack.aggregators.aggregatorFor(t).taskDefinition, `/secondary/aggregators/${t}/`]),
    ];
    for (const [taskDefinition, prefix] of expected) {
      const containers = containersOf(idOf(taskDefinition)) as Array<Container & { Essential?: boolean }>;
      const shipper = containers.find((c) => c.Name === 'SecondaryFileShipper')!;
      expect(shipper.Essential).toBe(false);
      expect(shipper.Environment!.find((e) => e.Name === 'DESTINATION')!.Value).toEqual({ 'Fn::Join': ['', ['s3://', bucket, prefix]] });
    }
  });

  test('each log type has its own aggregator service with at least 2 tasks spread across AZs', () => {
    expect(stack.aggregators.logTypes).toEqual(LOG_TYPES);
    for (const aggregator of stack.aggregators.aggregators) {
      const service = resources[idOf(aggregator.service)].Properties;
      expect(service.DesiredCount).toBeGreaterThanOrEqual(2);
      expect(service.PlacementStrategies).toEqual([{ Type: 'spread', Field: 'attribute:ecs.availability-zone' }]);
      expect(service.Cluster).toEqual({ Ref: idOf(stack.utilityCluster) });
    }
  });

  test('both forwarders route every log type to exactly one aggregator, registered under that name, on file buffers', () => {
    const cloudMapNames = Object.values(resources).filter((r) => r.Type === 'AWS::ServiceDiscovery::Service').map((r) => r.Properties.Name);
    expect(cloudMapNames).toEqual(LOG_TYPES);
    for (const forwarder of [stack.applicationForwarder, stack.utilityForwarder]) {
      const config = configOf(idOf(forwarder.taskDefinition));
      for (const type of LOG_TYPES) {
        const hosts = routeOf(config, type)!.children.filter((c) => c.name === 'server').map((s) => s.params.host);
        expect(hosts).toEqual([`${type}.logging.internal`]);
      }
      expect(buffersOf(config).every((b) => b.params['@type'] === 'file' && b.params.flush_at_shutdown === 'true')).toBe(true);
    }
  });

  test('fluentd telemetry of both forwarders and the aggregators reaches CloudWatch, with default alarms per output', () => {
    const diagnostics = idOf(stack.aggregators.diagnosticsLogGroup);
    const filters = Object.values(resources).filter((r) => r.Type === 'AWS::Logs::MetricFilter').map((r) => r.Properties);
    // Five metrics for each of the three fleets (two forwarders, the aggregators), on the shared diagnostics log group.
    expect(filters).toHaveLength(15);
    expect(filters.every((f) => JSON.stringify(f.LogGroupName) === JSON.stringify({ Ref: diagnostics }))).toBe(true);
    const fluentdAlarms = Object.values(resources).filter((r) => r.Type === 'AWS::CloudWatch::Alarm' && JSON.stringify(r.Properties).includes('CdkContainerPatterns/Fluentd'));
    // Two alarms per output: 2 forwarders x (3 log types + unmatched tags) + 3 aggregator types.
    expect(fluentdAlarms).toHaveLength(2 * 2 * (LOG_TYPES.length + 1) + 2 * LOG_TYPES.length);
    expect([stack.applicationForwarder.alarms.length, stack.utilityForwarder.alarms.length, stack.aggregators.alarms.length]).toEqual([8, 8, 6]);
    expect(new Set([stack.applicationForwarder.telemetryFleet, stack.utilityForwarder.telemetryFleet, stack.aggregators.telemetryFleet]).size).toBe(3);
    // Every one of them notifies the logging alarms topic.
    for (const alarm of fluentdAlarms) expect(alarm.Properties.AlarmActions).toEqual([{ Ref: idOf(stack.loggingAlarms) }]);
  });

  test('every forward output starts without DNS answers, asks for acknowledgements and never drops the oldest chunks', () => {
    for (const forwarder of [stack.applicationForwarder, stack.utilityForwarder]) {
      const config = configOf(idOf(forwarder.taskDefinition));
      for (const m of matchesOf(config)) {
        expect(m.params).toMatchObject({ ignore_network_errors_at_startup: 'true', require_ack_response: 'true' });
        expect(buffersOf([m])[0].params.overflow_action).toBe('throw_exception');
      }
    }
  });

  test('rails and nginx go to S3, job to CloudWatch Logs', () => {
    const outputs = Object.fromEntries(stack.aggregators.aggregators.map((a) => [a.logType, matchesOf(configOf(idOf(a.taskDefinition)))[0].params['@type']]));
    expect(outputs).toEqual({ rails: 's3', nginx: 's3', job: 'cloudwatch_logs' });
  });

  test('application secrets come from Parameter Store and Secrets Manager, never the environment', () => {
    const [app] = containersOf(idOf(stack.webTaskDefinition)) as Array<Container & { Secrets: Array<{ Name: string }> }>;
    expect(app.Secrets.map((s) => s.Name)).toEqual(['DATABASE_URL', 'RAILS_MASTER_KEY']);
    expect(app.Environment!.map((e) => e.Name)).toEqual(['RAILS_ENV', 'RAILS_LOG_TO_STDOUT']);
  });

  test('is environment-agnostic', () => {
    expect(Token.isUnresolved(stack.account) && Token.isUnresolved(stack.region)).toBe(true);
    // Account ids appear only in the region-indexed mapping of ELB log-delivery accounts, and in
    // the placeholder certificate ARN that the deploy-time context value replaces.
    expect(JSON.stringify(resources)).toContain(PLACEHOLDER_CERTIFICATE_ARN);
    expect(JSON.stringify(resources).split(PLACEHOLDER_CERTIFICATE_ARN).join('')).not.toMatch(/[:"]\d{12}[:"]/);
    expect(Object.keys(template.toJSON().Mappings ?? {})).toEqual(['Elbv2AccountMap']);
  });
});
