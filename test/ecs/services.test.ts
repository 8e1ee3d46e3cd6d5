import { CfnResource, Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { CapacityCluster, ForwarderLogging, WebService, WebServiceProps, WorkerService } from '../../lib';
import { nagFindings, testStack } from '../support/app';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { acknowledgedControls, clusterStack, importedCluster } from './support/fixtures';

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.3-slim');
const idOf = (construct: { node: { defaultChild?: unknown } }): string => {
  const child = construct.node.defaultChild as CfnResource;
  return child.stack.resolve(child.logicalId) as string;
};
type Container = Record<string, unknown>;

describe('WebService', () => {
  let template: Template;
  let web: WebService;
  let containers: Container[];

  beforeAll(() => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    const secret = ssm.StringParameter.fromSecureStringParameterAttributes(stack, 'Db', { parameterName: '/app/database-url' });
    // WHEN
    web = new WebService(stack, 'Web', {
      cluster: capacity.cluster,
      capacityProviderStrategies: capacity.onDemandStrategy,
      image,
      logTag: 'rails',
      healthCheckPath: '/health',
      environment: { RAILS_ENV: 'production' },
      secrets: { DATABASE_URL: ecs.Secret.fromSsmParameter(secret) },
      proxyImage: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine'),
      proxyPort: 8080,
    });
    template = Template.fromStack(stack);
    containers = template.toJSON().Resources[idOf(web.taskDefinition)].Properties.ContainerDefinitions;
  });

  test('the load balancer checks the health check path on the traffic port', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', {
      HealthCheckPath: '/health', HealthCheckPort: 'traffic-port', TargetType: 'instance', Port: 80,
    });
  });

  test('deployments roll back through the circuit breaker, and the service uses the capacity provider', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      DeploymentConfiguration: { DeploymentCircuitBreaker: { Enable: true, Rollback: true }, MinimumHealthyPercent: 100, MaximumPercent: 200 },
      CapacityProviderStrategy: [{ CapacityProvider: Match.anyValue(), Weight: 1 }],
      EnableExecuteCommand: true,
      HealthCheckGracePeriodSeconds: 60,
    });
  });

  test('the application runs as a non-root user with a stop timeout, secrets from ecs.Secret and no secret in the environment', () => {
    const app = containers.find((c) => c.Name === 'app')!;
    expect(app).toMatchObject({
      User: '1000:1000',
      StopTimeout: 30,
      Environment: [{ Name: 'RAILS_ENV', Value: 'production' }],
      Secrets: [{ Name: 'DATABASE_URL', ValueFrom: 'arn:aws:ssm:us-east-1:123456789012:parameter/app/database-url' }],
    });
  });

  test('every container logs to the local forwarder asynchronously, with its own tag', () => {
    const logging = Object.fromEntries(containers.map((c) => [c.Name, c.LogConfiguration]));
    expect(logging).toEqual({
      app: { LogDriver: 'fluentd', Options: { 'fluentd-address': '127.0.0.1:24224', 'fluentd-async': 'true', 'fluentd-sub-second-precision': 'true', tag: 'rails' } },
      proxy: { LogDriver: 'fluentd', Options: { 'fluentd-address': '127.0.0.1:24224', 'fluentd-async': 'true', 'fluentd-sub-second-precision': 'true', tag: 'nginx' } },
    });
  });

  test('the load balancer targets the proxy, which links to the application', () => {
    template.hasResourceProperties('AWS::ECS::Service', { LoadBalancers: [{ ContainerName: 'proxy', ContainerPort: 8080, TargetGroupArn: Match.anyValue() }] });
    expect(containers.find((c) => c.Name === 'proxy')).toMatchObject({ Links: ['app:app'], PortMappings: [{ ContainerPort: 8080, HostPort: 0, Protocol: 'tcp' }] });
  });

  test('CPU target tracking is the baseline scaling', () => {
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 2, MaxCapacity: 10 });
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
      PolicyType: 'TargetTrackingScaling',
      TargetTrackingScalingPolicyConfiguration: Match.objectLike({ TargetValue: 60, PredefinedMetricSpecification: { PredefinedMetricType: 'ECSServiceAverageCPUUtilization' } }),
    });
    expect(web.scalableTaskCount).toBeDefined();
  });

  test('the load balancer logs access to an encrypted bucket', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }, { Key: 'access_logs.s3.bucket', Value: Match.anyValue() }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'routing.http.drop_invalid_header_fields.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      VersioningConfiguration: { Status: 'Enabled' },
      NotificationConfiguration: { EventBridgeConfiguration: { EventBridgeEnabled: true } },
    });
    // Load balancers deliver access logs to SSE-S3 buckets only; the bucket is itself the log destination.
    const bucket = web.node.findChild('AccessLogBucket') as s3.Bucket;
    expect(Object.keys(acknowledgedControls(bucket)).sort()).toEqual(['s3_bucket_default_encryption_kms_check', 's3_bucket_logging_enabled_check', 's3_bucket_object_lock_enabled_check']);
    expect(acknowledgedControls(bucket).s3_bucket_object_lock_enabled_check).toMatch(/^\[exempt\] Holds load balancer access logs, expired by a lifecycle rule/);
  });

  test('by default the containers\' root filesystems are writable, the proxy runs as its image\'s user and there is no deletion protection or HTTPS: each an acknowledged option', () => {
    expect(containers.map((c) => c.ReadonlyRootFilesystem)).toEqual([false, false]);
    expect(containers[1].User).toBeUndefined();
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.not(Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }])),
    });
    const options = (construct: { node: unknown }) => Object.values(acknowledgedControls(construct as never)).map((reason) => /^\[(option `\w+`|exempt)\]/.exec(reason)![1]).sort();
    expect(options(web.taskDefinition)).toEqual(['exempt', 'option `proxyUser`', 'option `readonlyRootFilesystem`']);
    expect(acknowledgedControls(web.taskDefinition).ecs_awsvpc_networking_enabled_check).toMatch(/bridge mode with dynamic host ports/);
    expect(options(web.loadBalancer)).toEqual(['option `deletionProtection`']);
    expect(options(web.listener)).toEqual(['option `certificate`']);
  });
});

describe('WebService with the Control Tower options set', () => {
  let template: Template;
  let web: WebService;

  beforeAll(() => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    // WHEN
    web = new WebService(stack, 'Web', {
      cluster: capacity.cluster,
      image,
      logTag: 'rails',
      healthCheckPath: '/health',
      proxyImage: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine'),
      proxyUser: '101',
      readonlyRootFilesystem: true,
      deletionProtection: true,
      certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', 'arn:aws:acm:us-east-1:111122223333:certificate/00000000-0000-0000-0000-000000000000'),
    });
    template = Template.fromStack(stack);
  });

  test('app and proxy have read-only roots with one empty task volume at /tmp, and the proxy runs as the given user', () => {
    const properties = template.toJSON().Resources[idOf(web.taskDefinition)].Properties;
    const tmp = [{ ContainerPath: '/tmp', SourceVolume: 'tmp', ReadOnly: false }];
    expect(properties.ContainerDefinitions).toEqual([
      expect.objectContaining({ Name: 'app', ReadonlyRootFilesystem: true, MountPoints: tmp, User: '1000:1000' }),
      expect.objectContaining({ Name: 'proxy', ReadonlyRootFilesystem: true, MountPoints: tmp, User: '101' }),
    ]);
    expect(properties.Volumes).toEqual([{ Name: 'tmp' }]);
  });

  test('the load balancer is protected from deletion and port 80 redirects to HTTPS', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'deletion_protection.enabled', Value: 'true' }]),
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, Protocol: 'HTTP', DefaultActions: [{ Type: 'redirect', RedirectConfig: Match.objectLike({ Protocol: 'HTTPS', Port: '443' }) }],
    });
  });

  test('only bridge networking stays acknowledged on the task definition, nothing on the load balancer or listener', () => {
    expect(Object.keys(acknowledgedControls(web.taskDefinition))).toEqual(['ecs_awsvpc_networking_enabled_check']);
    expect(acknowledgedControls(web.loadBalancer)).toEqual({});
    expect(acknowledgedControls(web.listener)).toEqual({});
  });
});

describe('WorkerService', () => {
  test('has no load balancer, the longest container stop timeout ECS allows and the job tag', () => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    // WHEN
    const worker = new WorkerService(stack, 'Worker', { cluster: capacity.cluster, image, logTag: 'job', command: ['bundle', 'exec', 'sidekiq'] });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 0);
    template.hasResourceProperties('AWS::ECS::Service', { DeploymentConfiguration: Match.objectLike({ DeploymentCircuitBreaker: { Enable: true, Rollback: true } }) });
    const [app] = template.toJSON().Resources[idOf(worker.taskDefinition)].Properties.ContainerDefinitions;
    expect(app).toMatchObject({ StopTimeout: 120, User: '1000:1000', LogConfiguration: { LogDriver: 'fluentd', Options: expect.objectContaining({ 'fluentd-async': 'true', tag: 'job' }) } });
    expect(app.Environment).toBeUndefined();
  });
});

describe('WorkerService inheriting the agent stop timeout', () => {
  test('leaves StopTimeout to the instances, whose agent gets ECS_CONTAINER_STOP_TIMEOUT', () => {
    // GIVEN
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    const capacity = new CapacityCluster(stack, 'Capacity', { vpc, containerStopTimeout: Duration.minutes(15) });
    // WHEN
    const worker = new WorkerService(stack, 'Worker', { cluster: capacity.cluster, image, logTag: 'job', inheritAgentStopTimeout: true });
    // THEN
    const template = Template.fromStack(stack);
    const [app] = template.toJSON().Resources[idOf(worker.taskDefinition)].Properties.ContainerDefinitions;
    expect(app.StopTimeout).toBeUndefined();
    expect(JSON.stringify(template.toJSON())).toContain('ECS_CONTAINER_STOP_TIMEOUT=900s >> /etc/ecs/ecs.config');
  });
});

describe('service validation', () => {
  const webProps = (cluster: ecs.ICluster, extra: Partial<WebServiceProps>): WebServiceProps => ({
    cluster, image, logTag: 'rails', healthCheckPath: '/health', ...extra,
  });
  const webWith = (extra: Partial<WebServiceProps>) => {
    const { stack, cluster } = importedCluster();
    return () => new WebService(stack, 'Web', webProps(cluster, extra));
  };

  test('fails when the web service has no health check path', () => {
    expect(webWith({ healthCheckPath: undefined as unknown as string }))
      .toThrow('TestStack/Web: healthCheckPath (undefined) must be a path starting with "/"');
  });

  test('fails when the health check path is not a path', () => {
    expect(webWith({ healthCheckPath: 'health' })).toThrow('healthCheckPath ("health") must be a path starting with "/"');
  });

  test('fails when an environment variable is named like a secret', () => {
    expect(webWith({ environment: { DATABASE_PASSWORD: 'hunter2' } }))
      .toThrow('environment.DATABASE_PASSWORD ("(hidden)") looks like a secret by its name. Store it in Secrets Manager or Parameter Store');
  });

  test('fails when an environment value holds a URL with a password, without echoing it', () => {
    const build = webWith({ environment: { DATABASE_URL: 'postgres://app:hunter2@db:5432/app' } });
    expect(build).toThrow('environment.DATABASE_URL ("(hidden)") holds what looks like a credential');
    expect(build).not.toThrow('hunter2');
  });

  test('fails when the application runs as root', () => {
    expect(webWith({ user: 'root' })).toThrow('user ("root") runs the application as root');
    expect(webWith({ user: '0:0' })).toThrow('user ("0:0") runs the application as root');
  });

  test('fails when the log tag is not a fluentd tag of a log type', () => {
    expect(webWith({ logTag: 'Rails App' })).toThrow('tag ("Rails App") is not a valid fluentd tag of a log type');
  });

  test('fails when the stop timeout is over the 120 seconds ECS allows', () => {
    expect(webWith({ stopTimeout: Duration.minutes(10) })).toThrow('stopTimeout ("600 seconds") must be from 2 to 120 seconds (the ECS limit for a container). For longer shutdowns, set the cluster\'s containerStopTimeout');
  });

  test('fails when a worker sets stopTimeout and inheritAgentStopTimeout', () => {
    const { stack, cluster } = importedCluster();
    expect(() => new WorkerService(stack, 'Worker', { cluster, image, logTag: 'job', inheritAgentStopTimeout: true, stopTimeout: Duration.seconds(60) }))
      .toThrow('stopTimeout ("60 seconds") is set together with inheritAgentStopTimeout');
  });

  test('fails when minTaskCount exceeds maxTaskCount', () => {
    expect(webWith({ minTaskCount: 5, maxTaskCount: 3 })).toThrow('minTaskCount (5) must not exceed maxTaskCount (3)');
  });

  test('fails when proxy options are set without a proxy image', () => {
    expect(webWith({ proxyPort: 8080 })).toThrow('proxyPort (8080) is set but proxyImage is not');
    expect(webWith({ proxyUser: '101' })).toThrow('proxyUser ("101") is set but proxyImage is not');
  });

  test('fails when the proxy runs as root; a token user is accepted', () => {
    const proxyImage = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine');
    expect(webWith({ proxyImage, proxyUser: 'root:nginx' })).toThrow('proxyUser ("root:nginx") runs the proxy as root. Use the image\'s unprivileged user, e.g. "101" for nginx-unprivileged.');
    const { stack, capacity } = clusterStack();
    expect(() => new WebService(stack, 'Web', webProps(capacity.cluster, { proxyImage, proxyUser: ssm.StringParameter.valueForStringParameter(stack, '/proxy/user') }))).not.toThrow();
  });

  test('fails when the worker environment carries an AWS access key', () => {
    const { stack, cluster } = importedCluster();
    expect(() => new WorkerService(stack, 'Worker', { cluster, image, logTag: 'job', environment: { S3_CONFIG: 'AKIAABCDEFGHIJKLMNOP' } }))
      .toThrow('environment.S3_CONFIG ("(hidden)") holds what looks like a credential');
  });
});

describe('acknowledgements', () => {
  test('only the ECS Exec wildcards are acknowledged: another wildcard resource on the task role is still reported', () => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    const worker = new WorkerService(stack, 'Worker', { cluster: capacity.cluster, image, logTag: 'job' });
    // WHEN
    worker.taskDefinition.taskRole.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::uploads/*'] }));
    // THEN
    Template.fromStack(stack);
    expect(nagFindings(worker)).toEqual([{ rule: 'AwsSolutions-IAM5[Resource::arn:aws:s3:::uploads/*]', constructPath: 'TestStack/Worker/TaskDefinition/TaskRole/DefaultPolicy/Resource' }]);
  });
});

describe('ForwarderLogging', () => {
  test('builds an async fluentd driver pointed at the local forwarder', () => {
    const { stack } = importedCluster();
    const driver = ForwarderLogging.logDriver(stack, 'rails.access', { bufferLimitBytes: 16 * 1024 * 1024 });
    const td = new ecs.Ec2TaskDefinition(stack, 'Td');
    const config = driver.bind(stack, td.addContainer('C', { image, memoryLimitMiB: 128, logging: driver }));
    expect(config).toEqual({
      logDriver: 'fluentd',
      options: { 'fluentd-address': '127.0.0.1:24224', 'fluentd-async': 'true', 'fluentd-buffer-limit': '16777216', 'fluentd-sub-second-precision': 'true', tag: 'rails.access' },
    });
  });

  test('fails when the tag belongs to no valid log type', () => {
    const { stack } = importedCluster();
    expect(() => ForwarderLogging.logDriver(stack, 'fluent.internal')).toThrow('tag ("fluent.internal") is not a valid fluentd tag of a log type');
  });
});
