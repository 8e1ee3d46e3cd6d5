import { Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { CapacityCluster, EcsPlatform } from '../../lib';
import { nagFindings, testApp, testStack } from '../support/app';
import { DeleteOrder, ecsTeardownProblems } from '../support/teardown';
import { acknowledgedControls } from './support/fixtures';

describe('EcsPlatform with defaults', () => {
  let template: Template;
  let stack: Stack;
  beforeAll(() => {
    // GIVEN an environment-agnostic stack (no account, no region)
    stack = new Stack(testApp(), 'Platform');
    // WHEN
    new EcsPlatform(stack, 'Platform');
    template = Template.fromStack(stack);
  });

  test('has no unacknowledged cdk-nag findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('creates an application and a utility cluster with Container Insights enabled (the level Control Tower CT.ECS.PR.2 accepts)', () => {
    template.resourceCountIs('AWS::ECS::Cluster', 2);
    template.allResourcesProperties('AWS::ECS::Cluster', {
      ClusterSettings: [{ Name: 'containerInsights', Value: 'enabled' }],
    });
  });

  test('spreads every Auto Scaling group over the AZs of its subnets, named in AvailabilityZones too (CT.AUTOSCALING.PR.1)', () => {
    const azs = [{ 'Fn::Select': [0, { 'Fn::GetAZs': '' }] }, { 'Fn::Select': [1, { 'Fn::GetAZs': '' }] }];
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', { AvailabilityZones: azs, VPCZoneIdentifier: Match.anyValue() });
  });

  test('a single On-Demand instance type is acknowledged as the additionalInstanceTypes option', () => {
    const platform = stack.node.findChild('Platform') as EcsPlatform;
    expect(acknowledgedControls(platform.application.autoScalingGroup).autoscaling_mixed_instances_policy_multiple_instance_types_check)
      .toMatch(/^\[option `additionalInstanceTypes`\] /);
    expect(acknowledgedControls(platform.application.cluster)).toEqual({});
  });

  test('logs ECS Exec sessions to a KMS-encrypted log group', () => {
    template.allResourcesProperties('AWS::ECS::Cluster', {
      Configuration: {
        ExecuteCommandConfiguration: {
          KmsKeyId: Match.anyValue(),
          Logging: 'OVERRIDE',
          LogConfiguration: { CloudWatchEncryptionEnabled: true, CloudWatchLogGroupName: Match.anyValue() },
        },
      },
    });
    const groups = template.findResources('AWS::Logs::LogGroup');
    expect(Object.values(groups).every((g) => g.Properties.KmsKeyId !== undefined)).toBe(true);
  });

  test('launch templates require IMDSv2 and boot the ECS-optimized AL2023 AMI from its SSM parameter', () => {
    template.allResourcesProperties('AWS::EC2::LaunchTemplate', {
      LaunchTemplateData: Match.objectLike({
        MetadataOptions: { HttpTokens: 'required', HttpPutResponseHopLimit: 1 },
        ImageId: { Ref: Match.stringLikeRegexp('SsmParameterValueawsserviceecsoptimizedamiamazonlinux2023') },
      }),
    });
    expect(JSON.stringify(template.toJSON().Parameters)).toContain('/aws/service/ecs/optimized-ami/amazon-linux-2023/recommended/image_id');
  });

  test('capacity providers use managed scaling and draining, without termination protection (it blocks deletes)', () => {
    template.resourceCountIs('AWS::ECS::CapacityProvider', 2);
    template.allResourcesProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: {
        AutoScalingGroupArn: Match.anyValue(),
        ManagedScaling: Match.objectLike({ Status: 'ENABLED', TargetCapacity: 100 }),
        ManagedTerminationProtection: 'DISABLED',
        ManagedDraining: 'ENABLED',
      },
    });
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', { NewInstancesProtectedFromScaleIn: Match.absent(), MinSize: '2', MaxSize: '10' });
  });

  test('needs no lookups: AZs come from Fn::GetAZs', () => {
    template.hasResourceProperties('AWS::EC2::Subnet', { AvailabilityZone: { 'Fn::Select': [0, { 'Fn::GetAZs': '' }] } });
  });

  test('logs the VPC flows', () => {
    template.resourceCountIs('AWS::EC2::FlowLog', 1);
  });

  test('reaches S3 through a gateway endpoint, not the NAT gateways', () => {
    template.hasResourceProperties('AWS::EC2::VPCEndpoint', {
      VpcEndpointType: 'Gateway',
      ServiceName: { 'Fn::Join': ['', ['com.amazonaws.', { Ref: 'AWS::Region' }, '.s3']] },
    });
  });
});

describe('EcsPlatform in an imported VPC', () => {
  test('creates no VPC', () => {
    // GIVEN
    const stack = testStack();
    const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
      vpcId: 'vpc-0a1b2c3d4e5f67890', availabilityZones: ['us-east-1a', 'us-east-1b'],
      privateSubnetIds: ['subnet-0a1b2c3d4e5f67890', 'subnet-0a1b2c3d4e5f67891'],
      privateSubnetRouteTableIds: ['rtb-0a1b2c3d4e5f67890', 'rtb-0a1b2c3d4e5f67891'],
    });
    // WHEN
    new EcsPlatform(stack, 'Platform', { vpc });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::EC2::VPC', 0);
    template.allResourcesProperties('AWS::AutoScaling::AutoScalingGroup', { VPCZoneIdentifier: ['subnet-0a1b2c3d4e5f67890', 'subnet-0a1b2c3d4e5f67891'] });
  });
});

describe('CapacityCluster with Spot', () => {
  let cluster: CapacityCluster;
  let template: Template;
  beforeAll(() => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
    cluster = new CapacityCluster(stack, 'Cluster', {
      vpc,
      spotInstanceTypes: [new ec2.InstanceType('m6i.large'), new ec2.InstanceType('m5.large')],
      spotMaxCapacity: 4,
      containerInsights: ecs.ContainerInsights.ENABLED,
      execLogBucket: s3.Bucket.fromBucketName(stack, 'ExecLogs', 'exec-logs-bucket'),
    });
    template = Template.fromStack(stack);
  });

  test('also logs ECS Exec sessions to the given bucket, encrypted', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', {
      Configuration: { ExecuteCommandConfiguration: Match.objectLike({
        LogConfiguration: Match.objectLike({ S3BucketName: 'exec-logs-bucket', S3EncryptionEnabled: true, S3KeyPrefix: 'ecs-exec/' }),
      }) },
    });
  });

  test('adds an all-Spot group over several instance types with Spot draining', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MaxSize: '4',
      MixedInstancesPolicy: {
        InstancesDistribution: Match.objectLike({ OnDemandPercentageAboveBaseCapacity: 0, SpotAllocationStrategy: 'price-capacity-optimized' }),
        LaunchTemplate: Match.objectLike({ Overrides: [{ InstanceType: 'm6i.large' }, { InstanceType: 'm5.large' }] }),
      },
    });
    template.resourceCountIs('AWS::ECS::CapacityProvider', 2);
    expect(JSON.stringify(template.toJSON())).toContain('ECS_ENABLE_SPOT_INSTANCE_DRAINING=true');
  });

  test('a Spot strategy keeps a base on On-Demand', () => {
    const strategy = Stack.of(cluster).resolve(cluster.spotStrategy(2));
    expect(strategy).toEqual([
      { capacityProvider: Stack.of(cluster).resolve(cluster.capacityProvider.capacityProviderName), base: 2, weight: 0 },
      { capacityProvider: Stack.of(cluster).resolve(cluster.spotCapacityProvider!.capacityProviderName), weight: 1 },
    ]);
  });
});

describe('CapacityCluster with additional On-Demand instance types and enhanced Container Insights', () => {
  let cluster: CapacityCluster;
  let template: Template;
  beforeAll(() => {
    const stack = testStack();
    cluster = new CapacityCluster(stack, 'Cluster', {
      vpc: new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 }),
      additionalInstanceTypes: [new ec2.InstanceType('m6a.large'), new ec2.InstanceType('m7i.large')],
      containerInsights: ecs.ContainerInsights.ENHANCED,
    });
    template = Template.fromStack(stack);
  });

  test('the On-Demand group is a prioritized, all-On-Demand mixed instances policy over the types in order', () => {
    template.hasResourceProperties('AWS::AutoScaling::AutoScalingGroup', {
      MixedInstancesPolicy: {
        InstancesDistribution: { OnDemandAllocationStrategy: 'prioritized', OnDemandPercentageAboveBaseCapacity: 100 },
        LaunchTemplate: { Overrides: [{ InstanceType: 'm6i.large' }, { InstanceType: 'm6a.large' }, { InstanceType: 'm7i.large' }] },
      },
    });
    expect(acknowledgedControls(cluster.autoScalingGroup)).toEqual({});
  });

  test('enhanced Container Insights is acknowledged on the cluster, as a superset of the "enabled" the control asks for', () => {
    template.hasResourceProperties('AWS::ECS::Cluster', { ClusterSettings: [{ Name: 'containerInsights', Value: 'enhanced' }] });
    expect(acknowledgedControls(cluster.cluster).ecs_container_insights_enabled_check).toMatch(/^\[exempt\] containerInsights ENHANCED collects everything ENABLED does/);
  });
});

describe('CapacityCluster validation', () => {
  const vpcOf = (stack: Stack) => new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });

  test('fails when minCapacity exceeds maxCapacity', () => {
    const stack = testStack();
    expect(() => new CapacityCluster(stack, 'Cluster', { vpc: vpcOf(stack), minCapacity: 5, maxCapacity: 2 }))
      .toThrow('TestStack/Cluster: minCapacity (5) must not exceed maxCapacity (2)');
  });

  test('fails when spotMaxCapacity is set without spotInstanceTypes', () => {
    const stack = testStack();
    expect(() => new CapacityCluster(stack, 'Cluster', { vpc: vpcOf(stack), spotMaxCapacity: 3 }))
      .toThrow('spotMaxCapacity (3) is set but spotInstanceTypes is not');
  });

  test('fails when spotInstanceTypes is empty', () => {
    const stack = testStack();
    expect(() => new CapacityCluster(stack, 'Cluster', { vpc: vpcOf(stack), spotInstanceTypes: [] }))
      .toThrow('spotInstanceTypes ([]) is empty');
  });

  test('fails when containerStopTimeout is over a day', () => {
    const stack = testStack();
    expect(() => new CapacityCluster(stack, 'Cluster', { vpc: vpcOf(stack), containerStopTimeout: Duration.days(2) }))
      .toThrow('containerStopTimeout ("2 days") exceeds 1 day (the longest time a job may need to finish)');
  });

  test('fails when additionalInstanceTypes is empty', () => {
    const stack = testStack();
    expect(() => new CapacityCluster(stack, 'Cluster', { vpc: vpcOf(stack), additionalInstanceTypes: [] }))
      .toThrow('additionalInstanceTypes ([]) is empty');
  });

  test('fails when additionalInstanceTypes repeats instanceType', () => {
    const stack = testStack();
    expect(() => new CapacityCluster(stack, 'Cluster', { vpc: vpcOf(stack), additionalInstanceTypes: [new ec2.InstanceType('m6a.large'), new ec2.InstanceType('m6i.large')] }))
      .toThrow(/additionalInstanceTypes \(\["m6i.large"\]\) repeat an instance type \(instanceType is the first of the list\)/);
  });

  test('fails when targetCapacityPercent is over 100', () => {
    const stack = testStack();
    expect(() => new CapacityCluster(stack, 'Cluster', { vpc: vpcOf(stack), targetCapacityPercent: 120 }))
      .toThrow('targetCapacityPercent (120) must be a whole number from 1 to 100');
  });
});

describe('CapacityCluster teardown (aws-cdk#18179)', () => {
  /** A cluster with Spot capacity, a replica service on a capacity provider strategy and a daemon, all plain aws-cdk-lib services. */
  function clusterWithServices(props: { managedTerminationProtection?: boolean } = {}) {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const capacity = new CapacityCluster(stack, 'Capacity', { vpc, spotInstanceTypes: [new ec2.InstanceType('m6i.large')], ...props });
    const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'Task');
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.37'), memoryLimitMiB: 128 });
    new ecs.Ec2Service(stack, 'Replica', { cluster: capacity.cluster, taskDefinition, capacityProviderStrategies: capacity.spotStrategy(1) });
    new ecs.Ec2Service(stack, 'Daemon', { cluster: capacity.cluster, taskDefinition, daemon: true });
    return stack;
  }
  // One synthesis per stack: aws-cdk-lib's cluster adds its association again on a second synthesis.
  const orderOf = (stack: Stack) => new DeleteOrder(Template.fromStack(stack).toJSON().Resources);

  test('CloudFormation deletes the services, then the association, the providers, the groups, and the cluster last', () => {
    const order = orderOf(clusterWithServices());
    const [association] = order.ofType('AWS::ECS::ClusterCapacityProviderAssociations');
    const services = order.ofType('AWS::ECS::Service');
    expect(services).toHaveLength(2);
    for (const service of services) expect([service, order.deletedBefore(service, association)]).toEqual([service, true]);
    expect(order.dependenciesOfType(association, 'AWS::ECS::CapacityProvider')).toEqual(order.ofType('AWS::ECS::CapacityProvider').sort());
    expect(order.dependenciesOfType(association, 'AWS::AutoScaling::AutoScalingGroup')).toEqual(order.ofType('AWS::AutoScaling::AutoScalingGroup').sort());
    expect(ecsTeardownProblems(order)).toEqual([]);
  });

  test('the services name the association in DependsOn (it is not referenced, so nothing else orders them)', () => {
    const template = Template.fromStack(clusterWithServices());
    const [association] = Object.keys(template.findResources('AWS::ECS::ClusterCapacityProviderAssociations'));
    for (const service of Object.values(template.findResources('AWS::ECS::Service'))) expect(service.DependsOn).toContain(association);
  });

  test('the check catches the aws-cdk-lib defaults it guards against (no ordering, termination protection on)', () => {
    const stack = testStack();
    const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2 });
    const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
    const autoScalingGroup = new autoscaling.AutoScalingGroup(stack, 'Group', {
      vpc, instanceType: new ec2.InstanceType('m6i.large'), machineImage: ecs.EcsOptimizedImage.amazonLinux2023(), minCapacity: 1, maxCapacity: 2,
    });
    const provider = new ecs.AsgCapacityProvider(stack, 'Provider', { autoScalingGroup });
    cluster.addAsgCapacityProvider(provider);
    const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'Task');
    taskDefinition.addContainer('app', { image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/busybox:1.37'), memoryLimitMiB: 128 });
    new ecs.Ec2Service(stack, 'Service', { cluster, taskDefinition, capacityProviderStrategies: [{ capacityProvider: provider.capacityProviderName, weight: 1 }] });
    const problems = ecsTeardownProblems(new DeleteOrder(Template.fromStack(stack).toJSON().Resources));
    expect(problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^service Service\w+ is not deleted before Cluster\w+: ECS refuses to disassociate/),
      expect.stringMatching(/^capacity provider Provider\w+ has managed termination protection/),
      expect.stringMatching(/^group Group\w+ protects new instances from scale-in/),
    ]));
  });

  test('managed termination protection is an opt-in that the delete check reports', () => {
    const stack = clusterWithServices({ managedTerminationProtection: true });
    Template.fromStack(stack).allResourcesProperties('AWS::ECS::CapacityProvider', {
      AutoScalingGroupProvider: Match.objectLike({ ManagedTerminationProtection: 'ENABLED', ManagedDraining: 'ENABLED' }),
    });
    expect(ecsTeardownProblems(orderOf(stack))).toHaveLength(4); // two providers, two groups
  });

  test('the opt-in warns at synth how the delete then hangs and what to run first', () => {
    const stack = clusterWithServices({ managedTerminationProtection: true });
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Capacity', Match.stringLikeRegexp('managedTerminationProtection is on.*aws-cdk#18179.*set-instance-protection'));
    expect(warnings).toHaveLength(1);
  });

  test('no warning by default', () => {
    const stack = clusterWithServices();
    expect(Annotations.fromStack(stack).findWarning('*', Match.stringLikeRegexp('managedTerminationProtection'))).toEqual([]);
  });
});
