import { Duration, Stack } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { AppService, IAppService } from '../../../lib';
import { testApp, testStack } from '../../support/app';

export type ProviderKind = 'managed' | 'unmanaged' | 'managed-no-draining';

export interface ScalingFixture {
  readonly stack: Stack;
  readonly vpc: ec2.Vpc;
  readonly cluster: ecs.Cluster;
  readonly asg: autoscaling.AutoScalingGroup;
  readonly provider: ecs.AsgCapacityProvider;
  /** Registers the capacity provider with the cluster when the fixture was asked to leave that for later. */
  readonly addProvider: () => void;
  readonly taskDefinition: ecs.Ec2TaskDefinition;
  readonly container: ecs.ContainerDefinition;
  readonly service: ecs.Ec2Service;
  /** The worker service as an IAppService: 2 to 10 tasks with a CPU baseline `Cpu`, created on the first call. */
  readonly appService: () => IAppService;
  readonly apiKey: secretsmanager.ISecret;
}

export const API_KEY_ARN = 'arn:aws:secretsmanager:us-east-1:123456789012:secret:newrelic/user-key-AbCdEf';

/** Plain aws-cdk-lib pieces the scaling constructs take: a cluster on one ASG, a worker service, a secret. */
export function scalingFixture(
  kind: ProviderKind = 'managed', workerStopTimeout: Duration | 'unset' = Duration.minutes(5), addProviderLast = false, environmentAgnostic = false,
): ScalingFixture {
  // An environment-agnostic stack keeps cfn-lint from flagging the placeholder AZs (W3010).
  const stack = environmentAgnostic ? new Stack(testApp(), 'TestStack') : testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1, restrictDefaultSecurityGroup: false });
  const cluster = new ecs.Cluster(stack, 'Cluster', { vpc });
  const asg = new autoscaling.AutoScalingGroup(stack, 'Asg', {
    vpc,
    instanceType: new ec2.InstanceType('m7g.large'),
    machineImage: ecs.EcsOptimizedImage.amazonLinux2023(ecs.AmiHardwareType.ARM),
    minCapacity: 1,
    maxCapacity: 4,
  });
  const managed = kind !== 'unmanaged';
  const provider = new ecs.AsgCapacityProvider(stack, 'Provider', {
    autoScalingGroup: asg,
    enableManagedScaling: managed,
    enableManagedTerminationProtection: false,
    enableManagedDraining: kind === 'managed',
  });
  if (!addProviderLast) cluster.addAsgCapacityProvider(provider);
  const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'WorkerTask');
  const container = taskDefinition.addContainer('Worker', {
    containerName: 'sidekiq',
    image: ecs.ContainerImage.fromRegistry('example/worker:1'),
    memoryLimitMiB: 1024,
    stopTimeout: workerStopTimeout === 'unset' ? undefined : workerStopTimeout,
  });
  const service = new ecs.Ec2Service(stack, 'WorkerService', {
    cluster,
    taskDefinition,
    capacityProviderStrategies: [{ capacityProvider: provider.capacityProviderName, weight: 1 }],
    circuitBreaker: { enable: true, rollback: true },
    minHealthyPercent: 100,
  });
  const apiKey = secretsmanager.Secret.fromSecretCompleteArn(stack, 'NewRelicKey', API_KEY_ARN);
  let appService: IAppService | undefined;
  const asAppService = () => appService ??= importAppService(service, container);
  return { stack, vpc, cluster, asg, provider, addProvider: () => cluster.addAsgCapacityProvider(provider), taskDefinition, container, service, appService: asAppService, apiKey };
}

function importAppService(service: ecs.Ec2Service, container: ecs.ContainerDefinition): IAppService {
  const scalableTaskCount = service.autoScaleTaskCount({ minCapacity: 2, maxCapacity: 10 });
  scalableTaskCount.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
  const cpuScalingPolicy = scalableTaskCount.node.findChild('Target').node.findChild('Cpu') as appscaling.TargetTrackingScalingPolicy;
  return AppService.fromServiceAttributes(service.stack, 'WorkerAppService', { service, container, scalableTaskCount, cpuScalingPolicy });
}
