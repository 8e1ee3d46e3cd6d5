import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { Karpenter, KarpenterCapacityType } from '../../../lib/eks/addons';
import { EksHelmChartVersion } from '../../../lib/eks/versions';
import { nagFindings } from '../../support/app';
import { cfnLintFindings } from '../../support/cfn-lint';
import { addonStack, helmValues, importedCluster, KubeObject, manifestObjects, testCluster } from './test-cluster';

type Statement = { Sid?: string; Action: string | string[]; Resource: unknown; Condition?: Record<string, Record<string, unknown>> };

describe('Karpenter with defaults', () => {
  let stack: Stack;
  let template: Template;
  let objects: KubeObject[];
  let statements: Statement[];

  beforeAll(() => {
    stack = addonStack();
    new Karpenter(stack, 'Karpenter', { cluster: testCluster(stack) });
    template = Template.fromStack(stack);
    objects = manifestObjects(template);
    const policies = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('KarpenterControllerPolicy') } });
    statements = Object.values(policies).flatMap((p) => p.Properties.PolicyDocument.Statement);
  });

  test('installs the pinned controller chart without CRDs, and the CRD chart of the same version', () => {
    const v = EksHelmChartVersion.KARPENTER;
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Release: 'karpenter', Chart: 'karpenter', Repository: 'oci://public.ecr.aws/karpenter/karpenter', Version: v.version, SkipCrds: true, Namespace: 'kube-system',
    });
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Release: 'karpenter-crd', Chart: 'karpenter-crd', Repository: 'oci://public.ecr.aws/karpenter/karpenter-crd', Version: v.version,
    });
    expect(EksHelmChartVersion.KARPENTER_CRD.version).toBe(v.version);
  });

  test('chart values: plain service account (no IRSA annotation), cluster name and interruption queue', () => {
    const values = helmValues(template, 'karpenter');
    expect(values.serviceAccount).toEqual({ create: true, name: 'karpenter' });
    expect(JSON.stringify(values)).not.toContain('eks.amazonaws.com/role-arn');
    expect(values.settings).toEqual({ clusterName: '{TOKEN}', interruptionQueue: '{TOKEN}' });
    expect(values.replicas).toBe(2);
  });

  test('the controller role is trusted by Pod Identity only and associated with kube-system/karpenter', () => {
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'kube-system', ServiceAccount: 'karpenter' });
    const roles = Object.values(template.findResources('AWS::IAM::Role'))
      .filter((r) => JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('pods.eks.amazonaws.com'));
    expect(roles).toHaveLength(1);
    expect(roles[0].Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } },
    ]);
    expect(template.findResources('AWS::IAM::OIDCProvider')).toEqual({});
    expect(template.findResources('Custom::AWSCDKOpenIdConnectProvider')).toEqual({});
  });

  test('the chart waits for its credentials, CRDs and node access; the NodePool goes before it on delete', () => {
    const charts = template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Release: 'karpenter' } });
    const [chartId, chart] = Object.entries(charts)[0];
    const deps: string[] = chart.DependsOn;
    for (const prefix of ['KarpenterCrds', 'KarpenterPodIdentityAssociation', 'KarpenterControllerPolicy', 'KarpenterNodeAccessEntry']) {
      expect(deps).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^${prefix}`))]));
    }
    const pool = Object.values(template.findResources('Custom::AWSCDK-EKS-KubernetesResource')).find((r) => JSON.stringify(r.Properties.Manifest).includes('NodePool'));
    expect(pool?.DependsOn).toContain(chartId);
  });

  test('node role: EC2 trust, worker + ECR pull-only policies (no CNI policy), access entry of type EC2_LINUX', () => {
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] },
      ManagedPolicyArns: [
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEKSWorkerNodePolicy']] },
        { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEC2ContainerRegistryPullOnly']] },
      ],
    });
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      Type: 'EC2_LINUX',
      PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KarpenterNodeRole'), 'Arn'] },
    });
  });

  test('interruption queue: SQS-managed encryption, TLS only, 5-minute retention, fed by one rule with the five event types', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 300 });
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.resourceCountIs('AWS::Events::Rule', 1);
    template.hasResourceProperties('AWS::Events::Rule', {
      EventPattern: {
        'source': ['aws.ec2', 'aws.health'],
        'detail-type': [
          'EC2 Spot Instance Interruption Warning', 'EC2 Instance Rebalance Recommendation', 'EC2 Instance State-change Notification',
          'EC2 Capacity Reservation Instance Interruption Warning', 'AWS Health Event',
        ],
      },
      Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^KarpenterInterruptionQueue'), 'Arn'] } })],
    });
    // Only EventBridge, from this rule, may send to the queue.
    template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({
        Action: Match.arrayWith(['sqs:SendMessage']), Principal: { Service: 'events.amazonaws.com' },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [Match.stringLikeRegexp('^KarpenterInterruptionRule'), 'Arn'] } } },
      })]) },
    });
  });

  test('controller policy: every upstream statement, each mutating one conditioned on this cluster', () => {
    expect(statements.map((s) => s.Sid)).toEqual([
      'AllowScopedEC2InstanceAccessActions', 'AllowScopedEC2LaunchTemplateAccessActions', 'AllowScopedEC2InstanceActionsWithTags',
      'AllowScopedResourceCreationTagging', 'AllowScopedResourceTagging', 'AllowScopedDeletion', 'AllowRegionalReadActions',
      'AllowSSMReadActions', 'AllowPricingReadActions', 'AllowInterruptionQueueActions', 'AllowPassingInstanceRole',
      'AllowScopedInstanceProfileCreationActions', 'AllowScopedInstanceProfileTagActions', 'AllowScopedInstanceProfileActions',
      'AllowUnscopedInstanceProfileListAction', 'AllowInstanceProfileReadActions', 'AllowAPIServerEndpointDiscovery',
    ]);
    const mutating = /^(ec2:(CreateTags|TerminateInstances|DeleteLaunchTemplate|CreateLaunchTemplate)|iam:(CreateInstanceProfile|TagInstanceProfile|AddRoleToInstanceProfile|RemoveRoleFromInstanceProfile|DeleteInstanceProfile))$/;
    for (const s of statements.filter((st) => [st.Action].flat().some((a) => mutating.test(a)))) {
      const equals = s.Condition?.StringEquals ?? {};
      const clusterTag = equals['aws:ResourceTag/eks:eks-cluster-name'] ?? equals['aws:RequestTag/eks:eks-cluster-name'];
      expect({ sid: s.Sid, clusterTag }).toEqual({ sid: s.Sid, clusterTag: { Ref: expect.stringMatching(/^Cluster/) } });
    }
  });

  test('the only "*" resources are the actions AWS cannot scope', () => {
    const star = statements.filter((s) => s.Resource === '*').flatMap((s) => [s.Action].flat()).sort();
    expect(star).toEqual([
      'ec2:DescribeCapacityReservations', 'ec2:DescribeImages', 'ec2:DescribeInstanceStatus', 'ec2:DescribeInstanceTypeOfferings',
      'ec2:DescribeInstanceTypes', 'ec2:DescribeInstances', 'ec2:DescribeLaunchTemplates', 'ec2:DescribePlacementGroups',
      'ec2:DescribeSecurityGroups', 'ec2:DescribeSpotPriceHistory', 'ec2:DescribeSubnets', 'iam:ListInstanceProfiles', 'pricing:GetProducts',
    ]);
    expect(statements.find((s) => s.Sid === 'AllowRegionalReadActions')?.Condition).toEqual({ StringEquals: { 'aws:RequestedRegion': { Ref: 'AWS::Region' } } });
  });

  test('the controller policy fits IAM\'s 10,240-character inline policy limit', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('KarpenterControllerPolicy') } }))[0];
    // Tokens resolve to longer ARNs at deploy time: leave room for a 40-character cluster name per reference.
    const chars = JSON.stringify(policy.Properties.PolicyDocument).replace(/\s/g, '').length;
    expect(chars).toBeLessThan(8000);
  });

  test('default EC2NodeClass: the node role, private subnets by id, the cluster security group, IMDSv2 with hop limit 1, encrypted gp3', () => {
    const nodeClass = objects.find((o) => o.kind === 'EC2NodeClass')!;
    expect(nodeClass.apiVersion).toBe('karpenter.k8s.aws/v1');
    expect(nodeClass.spec).toEqual({
      role: '{TOKEN}',
      amiSelectorTerms: [{ alias: 'al2023@latest' }],
      subnetSelectorTerms: [{ id: '{TOKEN}' }, { id: '{TOKEN}' }],
      securityGroupSelectorTerms: [{ id: '{TOKEN}' }],
      metadataOptions: { httpEndpoint: 'enabled', httpProtocolIPv6: 'disabled', httpPutResponseHopLimit: 1, httpTokens: 'required' },
      blockDeviceMappings: [{ deviceName: '/dev/xvda', ebs: { volumeSize: '50Gi', volumeType: 'gp3', encrypted: true, deleteOnTermination: true } }],
    });
  });

  test('default NodePool: Spot and On-Demand, consolidation when empty or underused, limits and a disruption budget', () => {
    const pool = objects.find((o) => o.kind === 'NodePool')!;
    expect(pool.apiVersion).toBe('karpenter.sh/v1');
    expect(pool.spec.template.spec.requirements).toContainEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['spot', 'on-demand'] });
    expect(pool.spec.template.spec.nodeClassRef).toEqual({ group: 'karpenter.k8s.aws', kind: 'EC2NodeClass', name: 'default' });
    expect(pool.spec.template.spec.expireAfter).toBe('720h');
    // Bounded drain: a stack delete waits for the nodes within the kubectl handler's 15 minutes.
    expect(pool.spec.template.spec.terminationGracePeriod).toBe('10m');
    expect(pool.spec.limits).toEqual({ cpu: '100', memory: '400Gi' });
    expect(pool.spec.disruption).toEqual({ consolidationPolicy: 'WhenEmptyOrUnderutilized', consolidateAfter: '1m', budgets: [{ nodes: '10%' }] });
  });

  test('durations match the CRD pattern ^(([0-9]+(s|m|h))+|Never)$', () => {
    const pool = objects.find((o) => o.kind === 'NodePool')!;
    for (const d of [pool.spec.template.spec.expireAfter, pool.spec.template.spec.terminationGracePeriod, pool.spec.disruption.consolidateAfter]) expect(d).toMatch(/^(([0-9]+(s|m|h))+|Never)$/);
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('passes cfn-lint', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });
});

describe('Karpenter options', () => {
  test('On-Demand only, other categories, limits, pinned AMI and the CNI policy when asked for', () => {
    const stack = addonStack();
    new Karpenter(stack, 'Karpenter', {
      cluster: testCluster(stack),
      nodeRoleCniPolicy: true,
      defaultNodePool: {
        capacityType: KarpenterCapacityType.ON_DEMAND, instanceCategories: ['m'], cpuLimit: 32, memoryLimitGiB: 128,
        consolidateAfter: Duration.seconds(90), expireAfter: Duration.hours(36), amiAlias: 'al2023@v20261101', disruptionBudgetPercent: 0,
      },
    });
    const template = Template.fromStack(stack);
    const objects = manifestObjects(template);
    const pool = objects.find((o) => o.kind === 'NodePool')!;
    expect(pool.spec.template.spec.requirements).toContainEqual({ key: 'karpenter.sh/capacity-type', operator: 'In', values: ['on-demand'] });
    expect(pool.spec.template.spec.requirements).toContainEqual({ key: 'karpenter.k8s.aws/instance-category', operator: 'In', values: ['m'] });
    expect(pool.spec.limits).toEqual({ cpu: '32', memory: '128Gi' });
    expect(pool.spec.disruption.consolidateAfter).toBe('90s');
    expect(pool.spec.disruption.budgets).toEqual([{ nodes: '0%' }]);
    expect(pool.spec.template.spec.expireAfter).toBe('36h');
    expect(objects.find((o) => o.kind === 'EC2NodeClass')!.spec.amiSelectorTerms).toEqual([{ alias: 'al2023@v20261101' }]);
    template.hasResourceProperties('AWS::IAM::Role', {
      ManagedPolicyArns: Match.arrayWith([{ 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::aws:policy/AmazonEKS_CNI_Policy']] }]),
    });
  });
});

describe('Karpenter validation', () => {
  let stack: Stack;
  let cluster: eks.ICluster;
  beforeAll(() => {
    stack = addonStack();
    cluster = importedCluster(stack);
  });

  test('fails when the chart is not karpenter', () => {
    expect(() => new Karpenter(stack, 'Chart', { cluster, chart: EksHelmChartVersion.KEDA }))
      .toThrow(/Chart: chart \("keda"\) is not the karpenter chart/);
  });

  test('fails on an AMI alias that is not family@version', () => {
    expect(() => new Karpenter(stack, 'Ami', { cluster, defaultNodePool: { amiAlias: 'ami-0123456789' } }))
      .toThrow(/Ami: defaultNodePool.amiAlias \("ami-0123456789"\) is not an EC2NodeClass AMI alias/);
  });

  test('fails on an empty category list', () => {
    expect(() => new Karpenter(stack, 'Cat', { cluster, defaultNodePool: { instanceCategories: [] } }))
      .toThrow(/Cat: defaultNodePool.instanceCategories \(\[\]\) must list instance categories/);
  });

  test('fails on a fractional consolidation delay', () => {
    expect(() => new Karpenter(stack, 'Frac', { cluster, defaultNodePool: { consolidateAfter: Duration.millis(1500) } }))
      .toThrow(/Frac: defaultNodePool.consolidateAfter \("1 second 500 millis"\) must be a whole number of seconds/);
  });

  test('fails when the termination grace period would outlast the kubectl handler on delete', () => {
    expect(() => new Karpenter(stack, 'Grace', { cluster, defaultNodePool: { terminationGracePeriod: Duration.minutes(30) } }))
      .toThrow(/Grace: defaultNodePool.terminationGracePeriod \("30 minutes"\) exceeds 13 minutes \(a stack delete waits/);
  });

  test('fails on a disruption budget above 100 percent and zero replicas', () => {
    expect(() => new Karpenter(stack, 'Budget', { cluster, defaultNodePool: { disruptionBudgetPercent: 150 } }))
      .toThrow(/Budget: defaultNodePool.disruptionBudgetPercent \(150\) must be a whole number from 0 to 100/);
    expect(() => new Karpenter(stack, 'Replicas', { cluster, replicas: 0 })).toThrow(/Replicas: replicas \(0\) must be a whole number from 1 to 10/);
  });
});
