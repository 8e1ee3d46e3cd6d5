import { RemovalPolicy, Stack, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sns from 'aws-cdk-lib/aws-sns';
import { MigrationGate } from '../../../lib/ecs/release';
import { testStack } from '../../support/app';

/** What the release constructs consume, built without the platform constructs (imported clusters and services). */
export interface ReleaseFixture {
  readonly stack: Stack;
  readonly utilityCluster: ecs.ICluster;
  readonly appCluster: ecs.ICluster;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly web: ecs.IBaseService;
  readonly worker: ecs.IBaseService;
  readonly repository: ecr.IRepository;
  readonly topic: sns.Topic;
}

export function releaseFixture(id = 'ReleaseStack'): ReleaseFixture {
  const stack = testStack(id);
  const vpc = ec2.Vpc.fromVpcAttributes(stack, 'Vpc', {
    vpcId: 'vpc-0123456789abcdef0',
    availabilityZones: ['us-east-1a', 'us-east-1b'],
    privateSubnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'],
    privateSubnetRouteTableIds: ['rtb-0123456789abcdef0', 'rtb-0123456789abcdef1'],
  });
  const utilityCluster = ecs.Cluster.fromClusterAttributes(stack, 'UtilityCluster', { clusterName: 'utility', vpc });
  const appCluster = ecs.Cluster.fromClusterAttributes(stack, 'AppCluster', { clusterName: 'app', vpc });
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repo', 'rails-app');
  const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'AppTask');
  const logGroup = new logs.LogGroup(stack, 'AppLogs', { retention: logs.RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
  const container = taskDefinition.addContainer('rails', {
    image: MigrationGate.migrationImage(repository),
    memoryReservationMiB: 512,
    logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: 'app' }),
  });
  // Pulling from ECR grants ecr:GetAuthorizationToken, which has no resource-level permissions.
  Validations.of(taskDefinition.obtainExecutionRole()).acknowledge({ id: 'AwsSolutions-IAM5[Resource::*]', reason: 'ecr:GetAuthorizationToken accepts only "*".' });
  const web = ecs.Ec2Service.fromEc2ServiceAttributes(stack, 'Web', { cluster: appCluster, serviceName: 'web' });
  const worker = ecs.Ec2Service.fromEc2ServiceAttributes(stack, 'Worker', { cluster: appCluster, serviceName: 'worker' });
  const topicKey = new kms.Key(stack, 'TopicKey', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
  const topic = new sns.Topic(stack, 'Releases', { masterKey: topicKey, enforceSSL: true });
  return { stack, utilityCluster, appCluster, taskDefinition, container, web, worker, repository, topic };
}
