import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { WebService, WorkerService } from '../../lib';
import { clusterStack, importedCluster } from './support/fixtures';

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.3-slim');

describe('WebService in a Cloud Map namespace', () => {
  // GIVEN a web service behind a proxy, registered as "orders" in a private DNS namespace
  const { stack, capacity } = clusterStack();
  const namespace = new servicediscovery.PrivateDnsNamespace(stack, 'Discovery', { name: 'apps.internal', vpc: capacity.cluster.vpc });
  const web = new WebService(stack, 'Web', {
    cluster: capacity.cluster, image, logTag: 'rails', healthCheckPath: '/health',
    proxyImage: ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine'), proxyPort: 8080,
    publicLoadBalancer: false,
    cloudMap: { cloudMapNamespace: namespace, name: 'orders' },
  });
  const template = Template.fromStack(stack);

  test('publishes SRV records (bridge mode) in the namespace, with health from ECS', () => {
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', {
      Name: 'orders',
      NamespaceId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Discovery'), 'Id'] },
      DnsConfig: { DnsRecords: [{ Type: 'SRV', TTL: 10 }], NamespaceId: Match.anyValue(), RoutingPolicy: 'MULTIVALUE' },
      HealthCheckCustomConfig: { FailureThreshold: 1 },
    });
    expect(web.cloudMapService).toBeDefined();
  });

  test('its internal load balancer accepts port 80 from the VPC only, never from 0.0.0.0/0', () => {
    const lbSg = template.toJSON().Resources[stack.resolve((web.loadBalancer.connections.securityGroups[0].node.defaultChild as unknown as { logicalId: string }).logicalId)];
    expect(lbSg.Properties.SecurityGroupIngress).toEqual([
      { CidrIp: { 'Fn::GetAtt': [expect.stringMatching(/^Vpc/), 'CidrBlock'] }, Description: 'Callers inside the VPC', FromPort: 80, IpProtocol: 'tcp', ToPort: 80 },
    ]);
  });

  test('the SRV records point at the container the load balancer targets: the proxy', () => {
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceRegistries: [{ ContainerName: 'proxy', ContainerPort: 8080, RegistryArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^WebServiceCloudmapService'), 'Arn'] } }],
    });
  });
});

describe('WorkerService in a Cloud Map namespace', () => {
  test('maps the given port with a dynamic host port and publishes it', () => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    const namespace = new servicediscovery.PrivateDnsNamespace(stack, 'Discovery', { name: 'apps.internal', vpc: capacity.cluster.vpc });
    // WHEN
    const worker = new WorkerService(stack, 'Worker', {
      cluster: capacity.cluster, image, logTag: 'job', cloudMap: { cloudMapNamespace: namespace, name: 'grpc-jobs', containerPort: 50051, dnsTtl: Duration.seconds(30) },
    });
    // THEN
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::ServiceDiscovery::Service', { Name: 'grpc-jobs', DnsConfig: Match.objectLike({ DnsRecords: [{ Type: 'SRV', TTL: 30 }] }) });
    template.hasResourceProperties('AWS::ECS::Service', { ServiceRegistries: [{ ContainerName: 'app', ContainerPort: 50051, RegistryArn: Match.anyValue() }] });
    expect(worker.container.portMappings).toEqual([expect.objectContaining({ containerPort: 50051, hostPort: 0 })]);
  });
});

describe('Cloud Map validation', () => {
  const setup = () => {
    const { stack, cluster } = importedCluster();
    const privateNs = servicediscovery.PrivateDnsNamespace.fromPrivateDnsNamespaceAttributes(stack, 'Ns', {
      namespaceName: 'apps.internal', namespaceId: 'ns-0123456789abcdef', namespaceArn: 'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-0123456789abcdef',
    });
    const httpNs = servicediscovery.HttpNamespace.fromHttpNamespaceAttributes(stack, 'Http', {
      namespaceName: 'apps', namespaceId: 'ns-http0123456789ab', namespaceArn: 'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-http0123456789ab',
    });
    return { stack, cluster, privateNs, httpNs };
  };

  test('fails when the namespace is an HTTP namespace', () => {
    const { stack, cluster, httpNs } = setup();
    expect(() => new WorkerService(stack, 'Worker', { cluster, image, logTag: 'job', cloudMap: { cloudMapNamespace: httpNs, name: 'jobs', containerPort: 8080 } }))
      .toThrow(/cloudMap.cloudMapNamespace \("apps"\) is an HTTP namespace, which has no DNS records.*Use a private DNS namespace/);
  });

  test('fails when the name is not a DNS label', () => {
    const { stack, cluster, privateNs } = setup();
    expect(() => new WorkerService(stack, 'Worker', { cluster, image, logTag: 'job', cloudMap: { cloudMapNamespace: privateNs, name: 'Orders_API', containerPort: 8080 } }))
      .toThrow(/cloudMap.name \("Orders_API"\) is not a valid DNS-1123 label/);
  });

  test('fails when a worker is registered without a port', () => {
    const { stack, cluster, privateNs } = setup();
    expect(() => new WorkerService(stack, 'Worker', { cluster, image, logTag: 'job', cloudMap: { cloudMapNamespace: privateNs, name: 'jobs' } }))
      .toThrow(/cloudMap.containerPort \(undefined\) is missing: a worker has no port/);
  });

  test('fails when a web service publishes another port than the one the load balancer targets', () => {
    const { stack, cluster, privateNs } = setup();
    expect(() => new WebService(stack, 'Web', {
      cluster, image, logTag: 'rails', healthCheckPath: '/health', containerPort: 3000, cloudMap: { cloudMapNamespace: privateNs, name: 'web', containerPort: 9000 },
    })).toThrow(/cloudMap.containerPort \(9000\) is not the port the load balancer targets \(3000\)/);
  });

  test('fails when the TTL is longer than a day', () => {
    const { stack, cluster, privateNs } = setup();
    expect(() => new WorkerService(stack, 'Worker', { cluster, image, logTag: 'job', cloudMap: { cloudMapNamespace: privateNs, name: 'jobs', containerPort: 8080, dnsTtl: Duration.days(2) } }))
      .toThrow(/cloudMap.dnsTtl \("2 days"\) exceeds 1 day/);
  });
});
