import { Duration, Size } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { InstanceDraining, InstanceDrainingMechanism, NewRelicMetricBridge, ServiceStepScaling, WorkerWatchdog } from '../../../lib';
import { cfnLintFindings } from '../../support/cfn-lint';
import { nagFindings } from '../../support/app';
import { scalingFixture } from './fixture';

// One stack with all three pieces (the talk's variant of draining), checked by cdk-nag and cfn-lint.
const f = scalingFixture('unmanaged', Duration.minutes(5), false, true);
const scaling = new Construct(f.stack, 'Scaling');
const bridge = new NewRelicMetricBridge(scaling, 'Bridge', {
  accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: 'average(newrelic.unicorn.busy_ratio)', services: [{ newRelicName: 'rails-worker', serviceName: 'worker' }],
});
new ServiceStepScaling(scaling, 'WorkerScaling', { service: f.appService(), metric: bridge.metricForService('worker') });
new InstanceDraining(scaling, 'Draining', { cluster: f.cluster, autoScalingGroup: f.asg, mechanism: InstanceDrainingMechanism.LIFECYCLE_HOOK });
new WorkerWatchdog(scaling, 'Watchdog', {
  services: [{ service: f.appService(), container: f.container, name: 'sidekiq', maxMemory: Size.gibibytes(1), expectedWorkers: 2 }],
  // No autoScalingGroups: the watchdog finds the group through the service's capacity provider (cdk-nag IAM5 must stay clean).
});
const template = Template.fromStack(f.stack);

test('three functions, one per handler', () => {
  expect(Object.keys(template.findResources('AWS::Lambda::Function', { Properties: { Runtime: 'nodejs24.x', Architectures: ['arm64'] } }))).toHaveLength(3);
});

test('cdk-nag AwsSolutions finds nothing in the scaling constructs', () => {
  expect(nagFindings(scaling)).toEqual([]);
});

test('cfn-lint finds nothing in the stack', () => {
  expect(cfnLintFindings(f.stack)).toEqual([]);
});
