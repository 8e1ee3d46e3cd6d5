import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { ContainerLogging } from '../../../lib/eks/addons';
import { EksHelmChartVersion } from '../../../lib/eks/versions';
import { addonStack, helmValues, importedCluster, manifestObjects } from './test-cluster';

describe('ContainerLogging', () => {
  let template: Template;

  beforeAll(() => {
    const stack = addonStack();
    new ContainerLogging(stack, 'Logs', {
      cluster: importedCluster(stack),
      namespaces: ['shop', 'web'],
      retention: logs.RetentionDays.THREE_MONTHS,
      values: { resources: { limits: { memory: '500Mi' } } },
    });
    template = Template.fromStack(stack);
  });

  test('creates one KMS-encrypted log group per namespace, plus a fallback, with the retention', () => {
    for (const name of ['/aws/eks/prod/containers/shop', '/aws/eks/prod/containers/web', '/aws/eks/prod/containers/_fallback']) {
      template.hasResourceProperties('AWS::Logs::LogGroup', {
        LogGroupName: name,
        RetentionInDays: 90,
        KmsKeyId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^LogsKey'), 'Arn'] },
      });
    }
    template.resourceCountIs('AWS::Logs::LogGroup', 3);
  });

  test('the key rotates and lets CloudWatch Logs use it for log groups of this account only', () => {
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({
        Principal: { Service: { 'Fn::Join': ['', ['logs.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } },
        Condition: { ArnLike: { 'kms:EncryptionContext:aws:logs:arn': {
          'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':logs:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':log-group:*']],
        } } },
      })]) },
    });
  });

  test('Fluent Bit may write to those log groups only: no logs:* and nothing on *', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toHaveLength(1);
    expect(statements[0].Action).toEqual(['logs:CreateLogStream', 'logs:PutLogEvents']);
    expect(statements[0].Resource).toHaveLength(3);
    for (const r of statements[0].Resource) expect(r).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^LogsLogGroup|^LogsFallbackLogGroup/), 'Arn'] });
  });

  test('installs the pinned chart on Pod Identity, tailing only the listed namespaces into their groups', () => {
    const chart = EksHelmChartVersion.AWS_FOR_FLUENT_BIT;
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', { Chart: chart.chart, Repository: chart.repository, Version: chart.version, Namespace: 'kube-system' });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'aws-for-fluent-bit' });
    template.resourceCountIs('Custom::AWSCDKCfnJson', 0);
    const sa = manifestObjects(template).find((o) => o.kind === 'ServiceAccount')!;
    expect(sa.metadata).toMatchObject({ name: 'aws-for-fluent-bit', namespace: 'kube-system' });
    expect(sa.metadata.annotations).toBeUndefined();
    expect(helmValues(template, 'aws-for-fluent-bit')).toEqual({
      cloudWatchLogs: {
        autoCreateGroup: false,
        enabled: true,
        logGroupName: '{TOKEN}',
        logGroupTemplate: "/aws/eks/prod/containers/$kubernetes['namespace_name']",
        logStreamPrefix: 'fluentbit-',
        logStreamTemplate: "$kubernetes['pod_name'].$kubernetes['container_name']",
        region: '{TOKEN}',
      },
      input: { path: '/var/log/containers/*_shop_*.log,/var/log/containers/*_web_*.log' },
      resources: { limits: { memory: '500Mi' } },
      serviceAccount: { create: false, name: 'aws-for-fluent-bit' },
    });
  });

  test('the chart waits for its service account', () => {
    const chart = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart'))[0];
    expect(chart.DependsOn).toEqual(expect.arrayContaining([expect.stringMatching(/^LogsServiceAccount/)]));
  });
});

describe('ContainerLogging validation', () => {
  let stack: Stack;
  let cluster: eks.ICluster;
  beforeAll(() => {
    stack = addonStack();
    cluster = importedCluster(stack);
  });

  test('fails when no namespace is listed', () => {
    expect(() => new ContainerLogging(stack, 'None', { cluster, namespaces: [] })).toThrow(/None: namespaces \(\[\]\) is empty, so no logs would be shipped/);
  });

  test('fails when a namespace is not a DNS-1123 label', () => {
    expect(() => new ContainerLogging(stack, 'Bad', { cluster, namespaces: ['-shop'] })).toThrow(/Bad: namespaces\[0\] \("-shop"\) is not a valid DNS-1123 label/);
  });

  test('fails when a namespace is listed twice', () => {
    expect(() => new ContainerLogging(stack, 'Dup', { cluster, namespaces: ['a', 'a'] })).toThrow(/Dup: namespaces \(\["a", "a"\]\) lists "a" more than once/);
  });

  test('fails when asked for the log group of a namespace it does not log', () => {
    const logging = new ContainerLogging(stack, 'Ok', { cluster, namespaces: ['a'] });
    expect(logging.logGroup('a')).toBeDefined();
    expect(() => logging.logGroup('b')).toThrow(/Ok: namespaceName \("b"\) is not one of the logged namespaces. Use one of a./);
  });
});
