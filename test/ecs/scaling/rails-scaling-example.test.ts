import { Match, Template } from 'aws-cdk-lib/assertions';
import { IConstruct } from 'constructs';
import { RailsOnEcsStack } from '../../../examples/rails-on-ecs/rails-on-ecs-stack';
import { nagFindings, testApp } from '../../support/app';

// The example wires addScaling() into its constructor; one synth serves every assertion. Whole-stack
// cdk-nag and cfn-lint run in test/examples/rails-on-ecs.test.ts; the scaling pieces are linted in all-scaling.test.ts.
const stack = new RailsOnEcsStack(testApp(), 'RailsOnEcs');
const template = Template.fromStack(stack);
const SCALING_IDS = ['NewRelicApiKey', 'NewRelicBridge', 'WebBusyWorkerScaling', 'ApplicationDraining', 'ApplicationSpotDraining', 'WorkerWatchdog'];
const scalingNodes = SCALING_IDS.map((id) => stack.node.findChild(id));

test('the bridge polls New Relic US for the web service, four samples a minute', () => {
  template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: {
    POWERTOOLS_SERVICE_NAME: 'newrelic-bridge',
    NEW_RELIC_ENDPOINT: 'https://api.newrelic.com/graphql',
    NEW_RELIC_API_KEY_SECRET_ARN: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':secretsmanager:', { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, ':secret:rails-on-ecs/newrelic-user-api-key']] },
    BRIDGE_CONFIG: JSON.stringify({
      accountId: 1234567, from: 'Metric', facetAttribute: 'appName', services: [['rails-on-ecs-web', 'web']],
      metrics: [{ metricName: 'BusyWorkerRatio', select: 'sum(unicorn.workers.busy) / sum(unicorn.workers.total) * 100', unit: 'Percent', min: 0, max: 100 }],
      namespace: 'NewRelic', dimensionName: 'ServiceName',
      samplesPerMinute: 4, delaySeconds: 60, attemptTimeoutMs: 8000, maxAttempts: 3,
    }),
  } } });
});

test('the web service scales in on busy workers only when data says so', () => {
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BusyWorkerRatio', Threshold: 30, ComparisonOperator: 'LessThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BusyWorkerRatio', Threshold: 70, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  // The busy-worker policies share the web service's one scalable target with its CPU baseline.
  expect(Object.keys(template.findResources('AWS::ApplicationAutoScaling::ScalableTarget'))).toHaveLength(2);
});

test('the web CPU baseline only scales out; the worker\'s, with no busy-worker scaling, still scales in', () => {
  const policies = template.findResources('AWS::ApplicationAutoScaling::ScalingPolicy', { Properties: { PolicyType: 'TargetTrackingScaling' } });
  const disableScaleIn = (prefix: string) => Object.entries(policies).filter(([id]) => id.startsWith(prefix))
    .map(([, r]) => r.Properties.TargetTrackingScalingPolicyConfiguration.DisableScaleIn);
  expect(disableScaleIn('WebServiceTaskCountTargetCpuScaling')).toEqual([true]);
  expect(disableScaleIn('WorkerServiceTaskCountTargetCpuScaling')).toEqual([undefined]);
});

test('application instances drain through ECS managed draining: no drainer function', () => {
  expect(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'instance-drainer' } } } })).toEqual({});
});

test('the watchdog recycles Sidekiq above 900 MiB', () => {
  template.hasResourceProperties('AWS::SSM::Parameter', { Name: '/worker-watchdog/sidekiq/max-memory-mib', Value: '900' });
});

test('the watchdog signals through its own document only, one invocation at a time', () => {
  template.resourceCountIs('AWS::SSM::Document', 1);
  expect(JSON.stringify(template.toJSON())).not.toContain('AWS-RunShellScript');
  template.hasResourceProperties('AWS::Lambda::Function', { ReservedConcurrentExecutions: 1, Environment: { Variables: { POWERTOOLS_SERVICE_NAME: 'worker-watchdog' } } });
});

test('the bridge and the busy-worker scaling raise alarms when data goes missing', () => {
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmDescription: Match.stringLikeRegexp('^New Relic bridge: polls failed'), TreatMissingData: 'breaching' });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'BusyWorkerRatio', ComparisonOperator: 'LessThanThreshold', TreatMissingData: 'breaching' });
});

test('cdk-nag finds nothing in the scaling constructs of the example', () => {
  expect(scalingNodes.flatMap((node: IConstruct) => nagFindings(node))).toEqual([]);
});
