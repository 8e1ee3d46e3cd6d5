import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { ExternalDns, ExternalDnsPolicy } from '../../../lib/eks/addons';
import { EksHelmChartVersion } from '../../../lib/eks/versions';
import { nagFindings } from '../../support/app';
import { cfnLintFindings } from '../../support/cfn-lint';
import { addonStack, helmValues, importedCluster } from './test-cluster';

/** Every statement of every inline policy of the stack. */
const statements = (template: Template) =>
  Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);

describe('ExternalDns on Route 53 hosted zones', () => {
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    stack = addonStack();
    const zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' });
    const other = route53.HostedZone.fromHostedZoneAttributes(stack, 'Other', { hostedZoneId: 'Z456', zoneName: 'example.org' });
    new ExternalDns(stack, 'Dns', { cluster: importedCluster(stack), hostedZones: [zone, other] });
    template = Template.fromStack(stack);
  });

  test('installs the pinned chart: aws provider, upsert-only, TXT owner id = cluster name, limited to the zones', () => {
    const chart = EksHelmChartVersion.EXTERNAL_DNS;
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: chart.chart, Repository: chart.repository, Version: chart.version });
    expect(helmValues(template, 'external-dns')).toEqual({
      domainFilters: ['example.com', 'example.org'],
      env: [{ name: 'AWS_DEFAULT_REGION', value: '{TOKEN}' }],
      extraArgs: ['--zone-id-filter=Z123', '--zone-id-filter=Z456'],
      policy: 'upsert-only',
      provider: { name: 'aws' },
      registry: 'txt',
      serviceAccount: { create: false, name: 'external-dns' },
      sources: ['service', 'ingress'],
      txtOwnerId: 'prod',
    });
  });

  test('may read and change records only in the given zones; only ListHostedZones takes "*"', () => {
    const all = statements(template);
    expect(all.filter((s) => [s.Action].flat().some((a: string) => a !== 'route53:ListHostedZones'))).toEqual([{
      Action: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets', 'route53:ListTagsForResources'],
      Effect: 'Allow',
      Resource: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z123']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':route53:::hostedzone/Z456']] },
      ],
    }]);
    expect(all.filter((s) => s.Resource === '*')).toEqual([{ Action: 'route53:ListHostedZones', Effect: 'Allow', Resource: '*' }]);
  });

  test('the chart waits for its service account', () => {
    const chart = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart'))[0];
    expect(chart.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^DnsServiceAccount/)]));
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('ExternalDns on a shared Cloud Map namespace', () => {
  let stack: Stack;
  let template: Template;

  beforeAll(() => {
    stack = addonStack();
    const namespace = new servicediscovery.PrivateDnsNamespace(stack, 'Discovery', {
      name: 'internal.local',
      vpc: ec2.Vpc.fromVpcAttributes(stack, 'NsVpc', { vpcId: 'vpc-12345678', availabilityZones: ['az1'] }),
    });
    new ExternalDns(stack, 'Dns', { cluster: importedCluster(stack), cloudMapNamespace: namespace, policy: ExternalDnsPolicy.SYNC, txtOwnerId: 'blue' });
    template = Template.fromStack(stack);
  });

  test('runs the aws-sd provider on the namespace, with the given policy and owner id', () => {
    expect(helmValues(template, 'external-dns')).toEqual(expect.objectContaining({
      provider: { name: 'aws-sd' },
      domainFilters: ['internal.local'],
      extraArgs: ['--aws-zone-type=private', '--aws-sd-create-tag=external-dns-owner=blue'],
      policy: 'sync',
      txtOwnerId: 'blue',
    }));
  });

  test('keeps ownership in the aws-sd registry (Cloud Map service descriptions), not TXT records', () => {
    expect(helmValues(template, 'external-dns')).toEqual(expect.objectContaining({ registry: 'aws-sd' }));
  });

  test('may change, register into and delete only the services it created (its owner tag)', () => {
    const change = statements(template).find((s) => Array.isArray(s.Action) && s.Action.includes('servicediscovery:RegisterInstance'));
    expect(change).toEqual({
      Action: ['servicediscovery:DeleteService', 'servicediscovery:DeregisterInstance', 'servicediscovery:RegisterInstance', 'servicediscovery:UpdateService'],
      Effect: 'Allow',
      Resource: expect.anything(),
      Condition: { StringEquals: { 'aws:ResourceTag/external-dns-owner': 'blue' } },
    });
  });

  test('reads instances only in its namespace, and calls nothing external-dns 0.19 does not', () => {
    const discover = statements(template).find((s) => s.Action === 'servicediscovery:DiscoverInstances');
    expect(discover.Condition).toEqual({ StringEquals: { 'servicediscovery:NamespaceName': 'internal.local' } });
    const actions = statements(template).flatMap((s) => [s.Action].flat()).filter((a: string) => a.startsWith('servicediscovery:')).sort();
    expect(actions).toEqual([
      'servicediscovery:CreateService', 'servicediscovery:DeleteService', 'servicediscovery:DeregisterInstance', 'servicediscovery:DiscoverInstances',
      'servicediscovery:ListNamespaces', 'servicediscovery:ListServices', 'servicediscovery:RegisterInstance', 'servicediscovery:TagResource', 'servicediscovery:UpdateService',
    ]);
  });

  test('may create services only in that namespace', () => {
    const create = statements(template).find((s) => s.Action === 'servicediscovery:CreateService');
    expect(create).toEqual({
      Action: 'servicediscovery:CreateService',
      Effect: 'Allow',
      Resource: [{ 'Fn::GetAtt': [expect.stringMatching(/^Discovery/), 'Arn'] }, expect.anything()],
      Condition: { StringEquals: { 'servicediscovery:NamespaceArn': { 'Fn::GetAtt': [expect.stringMatching(/^Discovery/), 'Arn'] }, 'aws:RequestTag/external-dns-owner': 'blue' } },
    });
  });

  test('may change DNS records only for names inside the namespace', () => {
    const change = statements(template).find((s) => s.Action === 'route53:ChangeResourceRecordSets');
    expect(change.Condition).toEqual({ 'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': ['*.internal.local'] } });
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('passes cfn-lint', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });
});

describe('ExternalDns validation', () => {
  let stack: Stack;
  let cluster: eks.ICluster;
  let zone: route53.IHostedZone;
  beforeAll(() => {
    stack = addonStack();
    cluster = importedCluster(stack);
    zone = route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName: 'example.com' });
  });

  test('fails when the hosted zone list is empty', () => {
    expect(() => new ExternalDns(stack, 'Empty', { cluster, hostedZones: [] }))
      .toThrow(/Empty: hostedZones \(\[\]\) is empty, so ExternalDNS could not change any zone. List at least one hosted zone./);
  });

  test('fails when neither hosted zones nor a Cloud Map namespace is given', () => {
    expect(() => new ExternalDns(stack, 'None', { cluster })).toThrow(/None: hostedZones \(undefined\) and cloudMapNamespace are both missing/);
  });

  test('fails when both hosted zones and a Cloud Map namespace are given', () => {
    const ns = servicediscovery.HttpNamespace.fromHttpNamespaceAttributes(stack, 'Http', { namespaceName: 'x', namespaceId: 'ns-1', namespaceArn: 'arn:aws:servicediscovery:us-east-1:123456789012:namespace/ns-1' });
    expect(() => new ExternalDns(stack, 'Both', { cluster, hostedZones: [zone], cloudMapNamespace: ns }))
      .toThrow(/Both: hostedZones \("1 zone\(s\)"\) and cloudMapNamespace are both given, but ExternalDNS runs one provider/);
  });

  test('fails when the TXT owner id has characters a TXT record id cannot hold', () => {
    expect(() => new ExternalDns(stack, 'Owner', { cluster, hostedZones: [zone], txtOwnerId: 'my cluster' }))
      .toThrow(/Owner: txtOwnerId \("my cluster"\) must be 1-100 letters, digits/);
  });
});
