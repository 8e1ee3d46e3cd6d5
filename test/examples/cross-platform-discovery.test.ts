import { Template } from 'aws-cdk-lib/assertions';
import {
  CATALOG, CrossPlatformDiscoveryStack, DISCOVERY_DOMAIN, ECS_SUBNET_CIDRS, ORDERS,
} from '../../examples/cross-platform-discovery/cross-platform-discovery-stack';
import { EksV2Checks } from '../../lib';
import { nagFindings, testApp } from '../support/app';
import { cfnLintFindings } from '../support/cfn-lint';
import { helmValues, manifestObjects } from '../support/k8s';

/** `{ Ref: X }` or `{ Fn::GetAtt: [X, ...] }` → X. */
const refOf = (value: unknown): string | undefined => {
  const v = value as { Ref?: string; 'Fn::GetAtt'?: string[] } | undefined;
  return v?.Ref ?? v?.['Fn::GetAtt']?.[0];
};

describe('CrossPlatformDiscovery example', () => {
  let stack: CrossPlatformDiscoveryStack;
  let template: Template;
  let resources: Record<string, { Type: string; Properties: any }>; // eslint-disable-line @typescript-eslint/no-explicit-any
  const idOf = (construct: { node: { defaultChild?: unknown } }) => stack.resolve((construct.node.defaultChild as { logicalId: string }).logicalId) as string;
  beforeAll(() => {
    stack = new CrossPlatformDiscoveryStack(testApp(), 'CrossPlatformDiscovery');
    template = Template.fromStack(stack);
    resources = template.toJSON().Resources;
  });

  test('one private DNS namespace, kept on delete', () => {
    template.resourceCountIs('AWS::ServiceDiscovery::PrivateDnsNamespace', 1);
    template.hasResource('AWS::ServiceDiscovery::PrivateDnsNamespace', { Properties: { Name: DISCOVERY_DOMAIN }, DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('ECS registers orders in that namespace: SRV records, health from ECS', () => {
    const namespaceId = idOf(stack.discovery);
    const [cloudMapService] = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::ServiceDiscovery::Service');
    expect(cloudMapService[1].Properties).toMatchObject({
      Name: ORDERS.name,
      NamespaceId: { 'Fn::GetAtt': [namespaceId, 'Id'] },
      DnsConfig: { DnsRecords: [{ Type: 'SRV' }] },
      HealthCheckCustomConfig: { FailureThreshold: 1 },
    });
    const ecsService = resources[idOf(stack.orders.service)].Properties;
    expect(ecsService.ServiceRegistries).toEqual([{ ContainerName: 'app', ContainerPort: ORDERS.port, RegistryArn: { 'Fn::GetAtt': [cloudMapService[0], 'Arn'] } }]);
  });

  test('ExternalDNS publishes catalog into the same namespace, with the aws-sd registry and create rights there only', () => {
    expect(helmValues(template, 'external-dns')).toMatchObject({ provider: { name: 'aws-sd' }, registry: 'aws-sd', domainFilters: [DISCOVERY_DOMAIN] });
    const service = manifestObjects(template).find((o) => o.kind === 'Service' && o.metadata.name === CATALOG.name)!;
    expect(service.metadata.annotations).toEqual({ 'external-dns.alpha.kubernetes.io/hostname': CATALOG.host });
    expect(service.spec.clusterIP).toBe('None');
    const create = Object.values(resources).filter((r) => r.Type === 'AWS::IAM::Policy')
      .flatMap((p) => p.Properties.PolicyDocument.Statement).find((s) => s.Action === 'servicediscovery:CreateService');
    expect(refOf(create.Condition.StringEquals['servicediscovery:NamespaceArn'])).toBe(idOf(stack.discovery));
  });

  test('security groups: orders → catalog on 8080 and catalog → orders on the dynamic host ports, nothing else between them', () => {
    const clusterId = idOf(stack.platform.cluster);
    const instanceSg = idOf(stack.capacity.instanceSecurityGroup);
    const ingress = Object.values(resources).filter((r) => r.Type === 'AWS::EC2::SecurityGroupIngress').map((r) => r.Properties);
    // The kubectl provider reaches the API endpoint through the cluster group on 443; it is not a pod path.
    const intoPods = ingress.filter((p) => refOf(p.GroupId) === clusterId && p.Description !== 'kubectl provider to the API endpoint');
    expect(intoPods).toEqual([expect.objectContaining({ SourceSecurityGroupId: { 'Fn::GetAtt': [instanceSg, 'GroupId'] }, FromPort: CATALOG.port, ToPort: CATALOG.port, IpProtocol: 'tcp' })]);
    const intoInstances = ingress.filter((p) => refOf(p.GroupId) === instanceSg);
    const sources = intoInstances.map((p) => refOf(p.SourceSecurityGroupId)).sort();
    // The internal load balancer of orders, and the EKS pods.
    expect(sources).toEqual([clusterId, idOf(stack.orders.loadBalancer.connections.securityGroups[0])].sort());
    expect(intoInstances.find((p) => refOf(p.SourceSecurityGroupId) === clusterId)).toMatchObject({ FromPort: 32768, ToPort: 65535, IpProtocol: 'tcp' });
    expect(resources[instanceSg].Properties.SecurityGroupIngress).toBeUndefined();
  });

  test('network policies: catalog admits the ECS subnets on 8080 and may call them on the dynamic ports', () => {
    const policies = manifestObjects(template).filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === CATALOG.name);
    const allowIn = policies.filter((o) => o.spec.policyTypes.join() === 'Ingress');
    expect(allowIn.map((o) => o.spec.ingress)).toEqual([[{ from: [{ ipBlock: { cidr: '10.0.2.0/23' } }], ports: [{ port: CATALOG.port, protocol: 'TCP' }] }]]);
    const allowOut = policies.filter((o) => o.spec.policyTypes.join() === 'Egress');
    expect(allowOut.map((o) => o.spec.egress)).toEqual([[{ to: [{ ipBlock: { cidr: '10.0.2.0/23' } }], ports: [{ protocol: 'TCP', port: 32768, endPort: 65535 }] }]]);
  });

  test('the ECS subnets are the /23 the policies name, and no EKS node group uses them', () => {
    const ecsSubnets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::EC2::Subnet' && ECS_SUBNET_CIDRS.includes(r.Properties.CidrBlock)).map(([id]) => id);
    expect(ecsSubnets).toHaveLength(2);
    const nodeSubnets = Object.values(resources).filter((r) => r.Type === 'AWS::EKS::Nodegroup').flatMap((r) => r.Properties.Subnets.map(refOf));
    expect(nodeSubnets.length).toBeGreaterThan(0);
    expect(nodeSubnets.filter((s) => ecsSubnets.includes(s!))).toEqual([]);
    const asgSubnets = Object.values(resources).filter((r) => r.Type === 'AWS::AutoScaling::AutoScalingGroup').flatMap((r) => r.Properties.VPCZoneIdentifier.map(refOf));
    expect(new Set(asgSubnets)).toEqual(new Set(ecsSubnets));
  });

  test('passes cdk-nag AwsSolutions and EksV2Checks', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(nagFindings(stack, new EksV2Checks())).toEqual([]);
  });

  test('passes cfn-lint', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });
});
