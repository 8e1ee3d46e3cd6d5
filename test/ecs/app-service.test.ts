import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { AppService, IAppService, ServiceStepScaling, WorkerService } from '../../lib';
import { clusterStack, importedCluster } from './support/fixtures';

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.3-slim');
const metric = new cloudwatch.Metric({ namespace: 'NewRelic', metricName: 'BusyWorkerRatio', period: Duration.minutes(1) });
const cpuPolicies = (template: Template) => Object.values(template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', {
  Properties: { PolicyType: 'TargetTrackingScaling' },
})).map((r) => r.Properties.TargetTrackingScalingPolicyConfiguration);

/** A plain aws-cdk-lib EC2 service, as a user of the library might have built it. */
function plainService() {
  const { stack, cluster } = importedCluster();
  const taskDefinition = new ecs.Ec2TaskDefinition(stack, 'Task');
  const container = taskDefinition.addContainer('App', { image, memoryLimitMiB: 512 });
  const service = new ecs.Ec2Service(stack, 'Service', { cluster, taskDefinition, minHealthyPercent: 100 });
  return { stack, cluster, taskDefinition, container, service };
}

describe('WorkerService as an IAppService', () => {
  test('its connections are the hosts of its bridge-mode tasks: the cluster instances', () => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    const worker: IAppService = new WorkerService(stack, 'Worker', { cluster: capacity.cluster, image, logTag: 'job' });
    const caller = new ec2.SecurityGroup(stack, 'Caller', { vpc: capacity.cluster.vpc });
    // WHEN
    worker.connections.allowFrom(caller, ec2.Port.tcp(8080));
    // THEN
    expect(worker.connections.securityGroups).toEqual(capacity.cluster.connections.securityGroups);
    Template.fromStack(stack).hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 8080, ToPort: 8080, SourceSecurityGroupId: { 'Fn::GetAtt': [Match.stringLikeRegexp('^Caller'), 'GroupId'] },
    });
  });

  test('disableCpuScaleIn turns the CPU baseline into scale-out only, and is idempotent', () => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    const worker = new WorkerService(stack, 'Worker', { cluster: capacity.cluster, image, logTag: 'job' });
    // WHEN (a template synthesizes once, so the state before is asserted in the fromServiceAttributes tests)
    worker.disableCpuScaleIn();
    worker.disableCpuScaleIn();
    // THEN
    expect(cpuPolicies(Template.fromStack(stack))).toEqual([expect.objectContaining({ TargetValue: 60, DisableScaleIn: true })]);
  });

  test('step scaling adds to the one scalable target the service already has', () => {
    // GIVEN
    const { stack, capacity } = clusterStack();
    const worker = new WorkerService(stack, 'Worker', { cluster: capacity.cluster, image, logTag: 'job', minTaskCount: 3, maxTaskCount: 12 });
    // WHEN (before, this called autoScaleTaskCount() a second time and failed)
    new ServiceStepScaling(stack, 'Scaling', { service: worker, metric });
    // THEN
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalableTarget', { MinCapacity: 3, MaxCapacity: 12 });
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalingPolicy', 3);
    expect(cpuPolicies(template)).toEqual([expect.objectContaining({ DisableScaleIn: true })]);
  });
});

describe('AppService.fromServiceAttributes', () => {
  test('wraps a plain ECS service: its connections, task count and CPU policy', () => {
    // GIVEN
    const { stack, container, service } = plainService();
    const scalableTaskCount = service.autoScaleTaskCount({ minCapacity: 1, maxCapacity: 4 });
    scalableTaskCount.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 50 });
    const cpuScalingPolicy = scalableTaskCount.node.findChild('Target').node.findChild('Cpu') as appscaling.TargetTrackingScalingPolicy;
    // WHEN
    const app = AppService.fromServiceAttributes(stack, 'App', { service, container, scalableTaskCount, cpuScalingPolicy });
    new ServiceStepScaling(stack, 'Scaling', { service: app, metric });
    // THEN
    expect(app.taskDefinition).toBe(service.taskDefinition);
    expect(app.connections).toBe(service.connections);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::ApplicationAutoScaling::ScalableTarget', 1);
    expect(cpuPolicies(template)).toEqual([expect.objectContaining({ TargetValue: 50, DisableScaleIn: true })]);
  });

  test('without a CPU policy, disableCpuScaleIn changes nothing', () => {
    // GIVEN
    const { stack, container, service } = plainService();
    const scalableTaskCount = service.autoScaleTaskCount({ minCapacity: 1, maxCapacity: 4 });
    scalableTaskCount.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 50 });
    // WHEN
    AppService.fromServiceAttributes(stack, 'App', { service, container, scalableTaskCount }).disableCpuScaleIn();
    // THEN
    expect(cpuPolicies(Template.fromStack(stack))).toEqual([expect.not.objectContaining({ DisableScaleIn: expect.anything() })]);
  });

  test('fails when the scalable task count belongs to another service', () => {
    // GIVEN
    const { stack, cluster, container, service } = plainService();
    const otherTask = new ecs.Ec2TaskDefinition(stack, 'OtherTask');
    otherTask.addContainer('App', { image, memoryLimitMiB: 512 });
    const other = new ecs.Ec2Service(stack, 'Other', { cluster, taskDefinition: otherTask, minHealthyPercent: 100 });
    const scalableTaskCount = other.autoScaleTaskCount({ maxCapacity: 4 });
    // WHEN / THEN
    expect(() => AppService.fromServiceAttributes(stack, 'App', { service, container, scalableTaskCount }))
      .toThrow(/scalableTaskCount \("TestStack\/Other\/TaskCount"\) belongs to another service than TestStack\/Service/);
  });

  test('fails when the container is not in the service\'s task definition', () => {
    // GIVEN
    const { stack, service } = plainService();
    const stray = new ecs.Ec2TaskDefinition(stack, 'Stray').addContainer('Stray', { image, memoryLimitMiB: 512 });
    const scalableTaskCount = service.autoScaleTaskCount({ maxCapacity: 4 });
    // WHEN / THEN
    expect(() => AppService.fromServiceAttributes(stack, 'App', { service, container: stray, scalableTaskCount }))
      .toThrow(/taskDefinition \("TestStack\/Stray"\) is not the task definition of TestStack\/Service/);
  });
});
