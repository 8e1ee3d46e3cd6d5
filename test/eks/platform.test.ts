import { CfnParameter, CfnResource, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as logs from 'aws-cdk-lib/aws-logs';
import {
  EksAccessLevel, EksEndpointAccess, EksKubernetesVersion, EksPlatform, EksPlatformProps, EksV2Checks, IngressScheme, NetworkPolicyEngine,
} from '../../lib';
import { nagFindings, testApp } from '../support/app';
import { cfnLintFindings } from '../support/cfn-lint';
import { manifestObjects } from '../support/k8s';

function platformStack(props?: EksPlatformProps): { stack: Stack; platform: EksPlatform } {
  const stack = new Stack(testApp(), 'PlatformStack');
  return { stack, platform: new EksPlatform(stack, 'Platform', props) };
}

describe('EksPlatform with defaults', () => {
  let stack: Stack;
  let template: Template;
  beforeAll(() => {
    ({ stack } = platformStack());
    template = Template.fromStack(stack);
  });

  test('runs the default Kubernetes version with node groups, not Auto Mode', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Version: EksKubernetesVersion.DEFAULT.version,
      ComputeConfig: { Enabled: false },
      AccessConfig: { AuthenticationMode: 'API' },
    });
  });

  test('turns on all five control-plane log types', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      Logging: { ClusterLogging: { EnabledTypes: [{ Type: 'api' }, { Type: 'audit' }, { Type: 'authenticator' }, { Type: 'controllerManager' }, { Type: 'scheduler' }] } },
    });
  });

  test('keeps the API endpoint private', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPrivateAccess: true, EndpointPublicAccess: false, PublicAccessCidrs: Match.absent() }),
    });
  });

  test('encrypts Secrets with a new KMS key that rotates', () => {
    const keys = template.findResources('AWS::KMS::Key', { Properties: { EnableKeyRotation: true, Description: 'Envelope encryption of Kubernetes Secrets' } });
    expect(Object.keys(keys)).toHaveLength(1);
    template.hasResourceProperties('AWS::EKS::Cluster', {
      EncryptionConfig: [{ Provider: { KeyArn: { 'Fn::GetAtt': [Object.keys(keys)[0], 'Arn'] } }, Resources: ['secrets'] }],
    });
  });

  test('the kubectl provider\'s log groups use the stack\'s log key, its functions a security group of their own', () => {
    const logKey = Object.keys(template.findResources('AWS::KMS::Key', { Properties: { Description: Match.stringLikeRegexp('CloudWatch log groups') } }));
    expect(logKey).toHaveLength(1);
    const providerLogGroups = template.findResources('AWS::Logs::LogGroup', { Properties: { KmsKeyId: { 'Fn::GetAtt': [logKey[0], 'Arn'] } } });
    expect(Object.keys(providerLogGroups).filter((id) => id.includes('KubectlProvider')).length).toBe(2);
    const kubectlSg = Object.keys(template.findResources('AWS::EC2::SecurityGroup', { Properties: { GroupDescription: Match.stringLikeRegexp('kubectl provider') } }));
    expect(kubectlSg).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'onEvent handler for EKS kubectl resource provider',
      VpcConfig: { SecurityGroupIds: [{ 'Fn::GetAtt': [kubectlSg[0], 'GroupId'] }], SubnetIds: Match.anyValue() },
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', { FromPort: 443, ToPort: 443, SourceSecurityGroupId: { 'Fn::GetAtt': [kubectlSg[0], 'GroupId'] } });
  });

  test('wires the kubectl layer into the kubectl provider, inside the VPC', () => {
    const layers = Object.keys(template.findResources('AWS::Lambda::LayerVersion', { Properties: { Description: Match.stringLikeRegexp('kubectl') } }));
    expect(layers).toHaveLength(1);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'onEvent handler for EKS kubectl resource provider',
      Layers: Match.arrayWith([{ Ref: layers[0] }]),
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
    });
  });

  test('creates a VPC with subnets tagged for load balancer discovery', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    // Public subnets hold load balancers and NAT gateways only: no public IP on launch (Control Tower CT.EC2.PR.11).
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false, Tags: Match.arrayWith([{ Key: 'kubernetes.io/role/elb', Value: '1' }]) });
    expect(template.findResources('AWS::EC2::Subnet', { Properties: { MapPublicIpOnLaunch: true } })).toEqual({});
    template.hasResourceProperties('AWS::EC2::Subnet', { MapPublicIpOnLaunch: false, Tags: Match.arrayWith([{ Key: 'kubernetes.io/role/internal-elb', Value: '1' }]) });
    template.hasResourceProperties('AWS::EC2::FlowLog', { ResourceType: 'VPC' });
  });

  test('puts the control plane ENIs and nodes in private subnets only', () => {
    const privateSubnets = Object.keys(template.findResources('AWS::EC2::Subnet', { Properties: { Tags: Match.arrayWith([{ Key: 'aws-cdk:subnet-type', Value: 'Private' }]) } })).sort();
    expect(privateSubnets).toHaveLength(2);
    const cluster = Object.values(template.findResources('AWS::EKS::Cluster'))[0];
    const nodegroup = Object.values(template.findResources('AWS::EKS::Nodegroup'))[0];
    const refs = (list: { Ref: string }[]) => list.map((s) => s.Ref).sort();
    expect(refs(cluster.Properties.ResourcesVpcConfig.SubnetIds)).toEqual(privateSubnets);
    expect(refs(nodegroup.Properties.Subnets)).toEqual(privateSubnets);
  });

  test('creates an on-demand system node group behind an IMDSv2-only launch template with hop limit 1', () => {
    const templates = template.findResources('AWS::EC2::LaunchTemplate', {
      Properties: { LaunchTemplateData: Match.objectLike({ MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } }) },
    });
    const ltId = Object.keys(templates)[0];
    expect(ltId).toBeDefined();
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'ON_DEMAND',
      AmiType: 'AL2023_x86_64_STANDARD',
      InstanceTypes: ['m6i.large'],
      ScalingConfig: { MinSize: 2, MaxSize: 3, DesiredSize: 2 },
      LaunchTemplate: { Id: { Ref: ltId }, Version: { 'Fn::GetAtt': [ltId, 'LatestVersionNumber'] } },
    });
  });

  /** The managed policy ARNs of the node role (the role EC2 assumes), as JSON text. */
  const nodeRolePolicyNames = () => JSON.stringify(Object.values(template.findResources('AWS::IAM::Role', {
    Properties: { AssumeRolePolicyDocument: { Statement: [Match.objectLike({ Principal: { Service: 'ec2.amazonaws.com' } })] } },
  }))[0].Properties.ManagedPolicyArns);

  test('gives nodes no ENI rights: the CNI policy is on the CNI role only', () => {
    const names = nodeRolePolicyNames();
    expect(names).toContain('AmazonEKSWorkerNodePolicy');
    expect(names).not.toContain('AmazonEKS_CNI_Policy');
  });

  test('lets nodes pull images from ECR, not list or describe repositories', () => {
    const names = nodeRolePolicyNames();
    expect(names).toContain('AmazonEC2ContainerRegistryPullOnly');
    expect(names).not.toContain('AmazonEC2ContainerRegistryReadOnly');
  });

  test('installs the managed VPC CNI at the pinned version with a Pod Identity role', () => {
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'vpc-cni',
      AddonVersion: 'v1.20.4-eksbuild.1',
      ResolveConflicts: 'OVERWRITE',
      PodIdentityAssociations: [{ ServiceAccount: 'aws-node', RoleArn: Match.anyValue() }],
    });
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'eks-pod-identity-agent', AddonVersion: Match.stringLikeRegexp('^v\\d') });
  });

  test('boots nodes only after the managed CNI exists', () => {
    const cni = Object.keys(template.findResources('AWS::EKS::Addon', { Properties: { AddonName: 'vpc-cni' } }))[0];
    const nodegroup = Object.values(template.findResources('AWS::EKS::Nodegroup'))[0];
    expect(nodegroup.DependsOn).toContain(cni);
  });

  test('manages access through access entries, never the aws-auth ConfigMap', () => {
    expect(JSON.stringify(template.toJSON())).not.toContain('aws-auth');
    template.hasResourceProperties('AWS::EKS::Cluster', { AccessConfig: { AuthenticationMode: 'API' } });
  });

  test('passes cdk-nag AwsSolutions and EksV2Checks', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(nagFindings(stack, new EksV2Checks())).toEqual([]);
  });

  test('leaves the stack-wide VPC provider alone; the helper acknowledges it and cfn-lint passes', () => {
    const own = platformStack();
    const handler = () => own.stack.node.findChild('Custom::VpcRestrictDefaultSGCustomResourceProvider').node.findChild('Handler') as CfnResource;
    expect(handler().getMetadata('cfn-lint')).toBeUndefined();
    EksPlatform.acknowledgeStackProviders(own.stack);
    expect(handler().getMetadata('cfn-lint')).toEqual({ config: { ignore_checks: ['W3005'] } });
    expect(cfnLintFindings(own.stack)).toEqual([]);
  });
});

describe('EksPlatform with options', () => {
  let stack: Stack;
  let template: Template;
  let platform: EksPlatform;
  let adminRole: iam.Role;
  beforeAll(() => {
    stack = new Stack(testApp(), 'OptionsStack');
    const vpc = new ec2.Vpc(stack, 'OwnVpc', { maxAzs: 2, natGateways: 1 });
    vpc.addFlowLog('FlowLog');
    adminRole = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    platform = new EksPlatform(stack, 'Platform', {
      vpc,
      clusterName: 'team-a',
      version: EksKubernetesVersion.V1_36,
      endpointAccess: EksEndpointAccess.PUBLIC_AND_PRIVATE,
      publicEndpointCidrs: ['203.0.113.0/24'],
      adminRole,
      bootstrapClusterCreatorAdmin: false,
      systemNodeGroup: { minSize: 1, maxSize: 2, diskSizeGiB: 80 },
      vpcCni: { prefixDelegation: true, warmPrefixTarget: 1, warmIpTarget: 5, networkPolicyAgent: true },
    });
    platform.addNodeGroup('SpotArm', {
      capacityType: eks.CapacityType.SPOT,
      instanceTypes: [new ec2.InstanceType('m7g.large'), new ec2.InstanceType('m6g.large')],
      minSize: 0, maxSize: 10, desiredSize: 2,
      labels: { workload: 'batch' },
    });
    platform.addNodeGroup('SpotSingle', { capacityType: eks.CapacityType.SPOT, instanceTypes: [new ec2.InstanceType('c6i.large')] });
    template = Template.fromStack(stack);
  });

  test('uses the given VPC, name and version', () => {
    template.resourceCountIs('AWS::EC2::VPC', 1);
    template.hasResourceProperties('AWS::EKS::Cluster', { Name: 'team-a', Version: '1.36' });
  });

  test('opens the public endpoint to the listed CIDRs only', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', {
      ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: true, EndpointPrivateAccess: true, PublicAccessCidrs: ['203.0.113.0/24'] }),
    });
  });

  test('makes the admin role cluster admin through an access policy, and the creator not', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { AccessConfig: { BootstrapClusterCreatorAdminPermissions: false } });
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      PrincipalArn: stack.resolve(adminRole.roleArn),
      AccessPolicies: [Match.objectLike({ AccessScope: { Type: 'cluster' }, PolicyArn: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('AmazonEKSClusterAdminPolicy')])]) }) })],
    });
  });

  test('adds a Spot node group with several instance types and the ARM AL2023 AMI', () => {
    template.hasResourceProperties('AWS::EKS::Nodegroup', {
      CapacityType: 'SPOT',
      InstanceTypes: ['m7g.large', 'm6g.large'],
      AmiType: 'AL2023_ARM_64_STANDARD',
      ScalingConfig: { MinSize: 0, MaxSize: 10, DesiredSize: 2 },
      Labels: { workload: 'batch' },
    });
  });

  test('gives every node group its own IMDSv2-only launch template', () => {
    const lts = template.findResources('AWS::EC2::LaunchTemplate', {
      Properties: { LaunchTemplateData: Match.objectLike({ MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 } }) },
    });
    expect(Object.keys(lts)).toHaveLength(3);
    template.hasResourceProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({ BlockDeviceMappings: [{ DeviceName: '/dev/xvda', Ebs: { Encrypted: true, VolumeSize: 80, VolumeType: 'gp3' } }] }),
    });
  });

  test('warns when a Spot node group has a single instance type', () => {
    Annotations.fromStack(stack).hasWarning('/OptionsStack/Platform', Match.stringLikeRegexp('SpotSingle uses Spot with a single instance type'));
  });

  test('turns the CNI settings into the add-on configuration values', () => {
    template.hasResourceProperties('AWS::EKS::Addon', {
      AddonName: 'vpc-cni',
      ConfigurationValues: JSON.stringify({ enableNetworkPolicy: 'true', env: { ENABLE_PREFIX_DELEGATION: 'true', WARM_IP_TARGET: '5', WARM_PREFIX_TARGET: '1' } }),
    });
  });

  test('passes cdk-nag AwsSolutions and EksV2Checks with a CIDR-restricted public endpoint', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(nagFindings(stack, new EksV2Checks())).toEqual([]);
  });
});

describe('EksPlatform with add-ons', () => {
  let stack: Stack;
  let template: Template;
  let platform: EksPlatform;
  beforeAll(() => {
    stack = new Stack(testApp(), 'AddonsStack');
    const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
    platform = new EksPlatform(stack, 'Platform', {
      namespaces: ['shop', 'payments'],
      networkPolicyEngine: NetworkPolicyEngine.CALICO,
      externalDns: { hostedZones: [zone] },
      containerLogging: { retention: logs.RetentionDays.THREE_MONTHS },
    });
    platform.allowTraffic({ fromNamespace: 'shop', fromService: 'web', toNamespace: 'payments', toService: 'api', ports: [8080] });
    platform.allowFromVpc('alb', { toNamespace: 'shop', toService: 'web', ports: [8080] });
    platform.addIngress('Shop', { namespaceName: 'shop', scheme: IngressScheme.INTERNET_FACING, routes: [{ host: 'shop.example.com', serviceName: 'web', servicePort: 80 }] });
    template = Template.fromStack(stack);
  });

  test('creates each application namespace once, with a default-deny policy', () => {
    const objects = manifestObjects(template);
    expect(objects.filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name).sort()).toEqual(['payments', 'shop']);
    for (const ns of ['shop', 'payments']) {
      expect(objects).toContainEqual(expect.objectContaining({
        kind: 'NetworkPolicy',
        metadata: expect.objectContaining({ namespace: ns }),
        spec: expect.objectContaining({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] }),
      }));
    }
  });

  test('with Calico as the engine, installs the Tigera operator after the nodes and keeps the CNI agent off', () => {
    const nodegroup = Object.keys(template.findResources('AWS::EKS::Nodegroup'))[0];
    const calico = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart', { Properties: { Chart: 'tigera-operator' } }))[0];
    expect(calico.DependsOn).toContain(nodegroup);
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: '{"enableNetworkPolicy":"false"}' });
  });

  test('turns allowTraffic and allowFromVpc into NetworkPolicies', () => {
    const policies = manifestObjects(template).filter((o) => o.kind === 'NetworkPolicy');
    expect(policies).toContainEqual(expect.objectContaining({ metadata: expect.objectContaining({ namespace: 'payments' }), spec: expect.objectContaining({ policyTypes: ['Ingress'] }) }));
    const fromVpc = policies.find((p) => JSON.stringify(p).includes('ipBlock'))!;
    // The load balancer subnets (public and private), not the whole VPC CIDR.
    expect(fromVpc.spec.ingress[0].from.map((f: { ipBlock: { cidr: string } }) => f.ipBlock.cidr))
      .toEqual([...platform.vpc.publicSubnets, ...platform.vpc.privateSubnets].map((sn) => sn.ipv4CidrBlock));
    expect(fromVpc.metadata.namespace).toBe('shop');
  });

  test('installs the load balancer controller on the first addIngress, after the nodes', () => {
    const nodegroup = Object.keys(template.findResources('AWS::EKS::Nodegroup'))[0];
    const charts = template.findResources('Custom::AWSCDK-EKS-HelmChart');
    const byChart = (name: string) => Object.values(charts).find((c) => c.Properties.Chart === name)!;
    for (const name of ['aws-load-balancer-controller', 'external-dns', 'aws-for-fluent-bit']) expect(byChart(name).DependsOn).toContain(nodegroup);
    expect(manifestObjects(template)).toContainEqual(expect.objectContaining({ kind: 'Ingress', metadata: expect.objectContaining({ name: 'shop', namespace: 'shop' }) }));
    expect(platform.loadBalancerController).toBeDefined();
  });

  test('ships the namespaces\' container logs to their own log groups', () => {
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90, LogGroupName: Match.objectLike({ 'Fn::Join': Match.arrayWith([Match.arrayWith([Match.stringLikeRegexp('/containers/shop$')])]) }) });
  });
  // cdk-nag and cfn-lint over the add-ons wired in: see test/examples/eks-*.test.ts.
});

describe('EksPlatform in an imported VPC', () => {
  test('uses the VPC private subnets and warns that it cannot tag them for load balancers', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'Imported');
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-12345678', availabilityZones: ['az-a', 'az-b'],
      privateSubnetIds: ['subnet-0a1a1a1a', 'subnet-0b1b1b1b'], privateSubnetRouteTableIds: ['rtb-0a1a1a1a', 'rtb-0b1b1b1b'],
      publicSubnetIds: ['subnet-0a2a2a2a', 'subnet-0b2b2b2b'], publicSubnetRouteTableIds: ['rtb-0a2a2a2a', 'rtb-0b2b2b2b'],
    });
    // WHEN
    new EksPlatform(stack, 'Platform', { vpc });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.hasResourceProperties('AWS::EKS::Nodegroup', { Subnets: ['subnet-0a1a1a1a', 'subnet-0b1b1b1b'] });
    Annotations.fromStack(stack).hasWarning('/Imported/Platform/Resource', Match.stringLikeRegexp('kubernetes.io/role/internal-elb'));
  });
});

describe('EksPlatform validation', () => {
  const expectError = (props: EksPlatformProps, ...fragments: string[]) => {
    const stack = new Stack(testApp(), 'Bad');
    let message = '';
    try {
      new EksPlatform(stack, 'Platform', props);
    } catch (e) {
      message = (e as Error).message;
    }
    for (const f of fragments) expect(message).toContain(f);
  };

  test('fails when the endpoint is public without CIDRs', () => {
    expectError({ endpointAccess: EksEndpointAccess.PUBLIC_AND_PRIVATE }, 'publicEndpointCidrs (undefined) must list the CIDRs');
  });

  test('fails when the public endpoint is opened to 0.0.0.0/0', () => {
    expectError({ endpointAccess: EksEndpointAccess.PUBLIC_AND_PRIVATE, publicEndpointCidrs: ['0.0.0.0/0'] }, 'publicEndpointCidrs[0] ("0.0.0.0/0") opens the API endpoint to the whole internet');
  });

  test.each([
    ['a prefix longer than 32', ['10.0.0.0/33'], 'publicEndpointCidrs[0] ("10.0.0.0/33") is not an IPv4 CIDR block'],
    ['an octet above 255', ['203.0.113.256/24'], 'publicEndpointCidrs[0] ("203.0.113.256/24") is not an IPv4 CIDR block'],
    ['two halves that cover the whole internet', ['0.0.0.0/1', '128.0.0.0/1'], 'publicEndpointCidrs (["0.0.0.0/1", "128.0.0.0/1"]) together cover the whole IPv4 internet'],
    ['four quarters that cover the whole internet', ['192.0.0.0/2', '0.0.0.0/2', '128.0.0.0/2', '64.0.0.0/2'], 'together cover the whole IPv4 internet'],
  ])('fails when publicEndpointCidrs has %s', (_case, cidrs, message) => {
    expectError({ endpointAccess: EksEndpointAccess.PUBLIC_AND_PRIVATE, publicEndpointCidrs: cidrs }, message);
  });

  test('accepts CIDRs that leave part of the internet out, and a CfnParameter list known only at deploy time', () => {
    const ok = new Stack(testApp(), 'Ok');
    expect(() => new EksPlatform(ok, 'Half', { endpointAccess: EksEndpointAccess.PUBLIC_AND_PRIVATE, publicEndpointCidrs: ['0.0.0.0/1', '128.0.0.0/2'] })).not.toThrow();
    const param = new CfnParameter(ok, 'AdminCidrs', { type: 'CommaDelimitedList' });
    expect(() => new EksPlatform(ok, 'FromParameter', { endpointAccess: EksEndpointAccess.PUBLIC_AND_PRIVATE, publicEndpointCidrs: param.valueAsList })).not.toThrow();
    const cluster = Template.fromStack(ok).findResources('AWS::EKS::Cluster');
    const fromParameter = Object.entries(cluster).find(([id]) => id.startsWith('FromParameter'))![1];
    expect(fromParameter.Properties.ResourcesVpcConfig.PublicAccessCidrs).toEqual({ Ref: 'AdminCidrs' });
  });

  test('fails when a public CIDR is malformed', () => {
    expectError({ endpointAccess: EksEndpointAccess.PUBLIC_AND_PRIVATE, publicEndpointCidrs: ['203.0.113.0'] }, 'publicEndpointCidrs[0] ("203.0.113.0") is not an IPv4 CIDR');
  });

  test('fails when CIDRs are given for a private endpoint', () => {
    expectError({ publicEndpointCidrs: ['203.0.113.0/24'] }, 'publicEndpointCidrs (["203.0.113.0/24"]) has no effect while endpointAccess is PRIVATE');
  });

  test('fails when the version string is not a Kubernetes version', () => {
    expectError({ version: EksKubernetesVersion.of('latest') }, 'version ("latest") is not a Kubernetes minor version ("1.NN")');
  });

  test('fails when the version is outside the supported range', () => {
    expectError({ version: EksKubernetesVersion.of('1.21') }, 'version ("1.21") is outside the skew of the bundled kubectl layer v36 (kubectl supports 1.35 to 1.37)');
  });

  test('fails when the cluster would have no admin', () => {
    expectError({ bootstrapClusterCreatorAdmin: false }, 'bootstrapClusterCreatorAdmin (false) would leave the cluster without any admin');
  });

  test('fails when node group minSize exceeds maxSize', () => {
    expectError({ systemNodeGroup: { minSize: 5, maxSize: 2 } }, 'systemNodeGroup.minSize (5) must not exceed systemNodeGroup.maxSize (2)');
  });

  test('fails when desiredSize is outside min..max', () => {
    expectError({ systemNodeGroup: { minSize: 1, maxSize: 3, desiredSize: 4 } }, 'systemNodeGroup.desiredSize (4) must not exceed systemNodeGroup.maxSize (3)');
  });

  test('fails when a node group size is not a whole number', () => {
    expectError({ systemNodeGroup: { minSize: 1.5 } }, 'systemNodeGroup.minSize (1.5) must be a whole number');
  });

  test('fails when a node group mixes ARM and x86 instance types', () => {
    expectError({ systemNodeGroup: { instanceTypes: [new ec2.InstanceType('m7g.large'), new ec2.InstanceType('m6i.large')] } },
      'systemNodeGroup.instanceTypes (["m7g.large", "m6i.large"]) mixes ARM and x86 instance types');
  });

  test('fails when an application namespace is not a DNS-1123 label', () => {
    expectError({ namespaces: ['Shop_Front'] }, 'namespaces[0] ("Shop_Front") is not a valid namespace name');
  });

  test('fails when an application namespace is a built-in one', () => {
    expectError({ namespaces: ['shop', 'kube-system'] }, 'namespaces[1] ("kube-system") is a namespace Kubernetes or a platform add-on owns');
  });

  test('fails when an application namespace is listed twice', () => {
    expectError({ namespaces: ['shop', 'shop'] }, 'namespaces (["shop"]) are listed more than once');
  });

  test('fails when externalDns names no place to publish', () => {
    expectError({ externalDns: {} }, 'externalDns ("neither hostedZones nor cloudMapNamespace") must name exactly one place to publish DNS records');
  });

  test('fails when the VPC CNI policy agent contradicts the network policy engine', () => {
    expectError({ networkPolicyEngine: NetworkPolicyEngine.CALICO, vpcCni: { networkPolicyAgent: true } },
      'vpcCni.networkPolicyAgent (true) conflicts with networkPolicyEngine CALICO');
  });

  test('fails when container logging has no namespaces to ship', () => {
    expectError({ containerLogging: {} }, 'namespaces ([]) is empty, so containerLogging would ship nothing');
  });

  test('fails when two ingresses route the same host and path to different services on one ALB', () => {
    const { platform } = platformStack({ namespaces: ['shop'] });
    platform.addIngress('A', { namespaceName: 'shop', groupName: 'public', routes: [{ host: 'shop.example.com', path: '/', serviceName: 'web', servicePort: 80 }] });
    expect(() => platform.addIngress('B', { namespaceName: 'shop', groupName: 'public', routes: [{ host: 'shop.example.com', path: '/', serviceName: 'api', servicePort: 80 }] }))
      .toThrow(/B\.routes\[0\] .* conflicts with Ingress "shop\/a"/);
  });

  test('fails when addNodeGroup gets min > max', () => {
    const { platform } = platformStack();
    expect(() => platform.addNodeGroup('Batch', { minSize: 4, maxSize: 1 })).toThrow(/Batch\.minSize \(4\) must not exceed Batch\.maxSize \(1\)/);
  });

  test('fails when the admin role is also mapped through addAccess', () => {
    const stack = new Stack(testApp(), 'Dup');
    const adminRole = new iam.Role(stack, 'Admin', { assumedBy: new iam.AccountRootPrincipal() });
    const platform = new EksPlatform(stack, 'Platform', { adminRole });
    expect(() => platform.addAccess('Again', { role: adminRole, level: EksAccessLevel.READ_ONLY })).toThrow(/addAccess\(Again\)\.role .* is already the platform adminRole/);
  });

  test('fails when a role is mapped twice', () => {
    const { stack, platform } = platformStack();
    const role = new iam.Role(stack, 'Dev', { assumedBy: new iam.AccountRootPrincipal() });
    platform.addAccess('First', { role, level: EksAccessLevel.READ_ONLY });
    expect(() => platform.addAccess('Second', { role, level: EksAccessLevel.CLUSTER_ADMIN })).toThrow(/addAccess\(Second\)\.role \("PlatformStack\/Dev"\) is already mapped by addAccess\(First\)/);
  });
});
