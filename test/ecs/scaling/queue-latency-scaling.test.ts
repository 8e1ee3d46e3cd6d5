import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { NewRelicMetricBridge, QueueLatencyScaling } from '../../../lib';
import { scalingFixture } from './fixture';

function queueScaling(props: { scaleOutLatency?: Duration; scaleInLatency?: Duration } = {}) {
  const f = scalingFixture();
  const bridge = new NewRelicMetricBridge(f.stack, 'Bridge', {
    accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: 'average(newrelic.unicorn.busy_ratio)', services: [{ newRelicName: 'rails-worker', serviceName: 'worker' }],
    additionalMetrics: [{ metricName: 'QueueLatency', nrqlSelect: 'max(newrelic.sidekiq.queue.latency)' }],
  });
  new QueueLatencyScaling(f.stack, 'Queue', { service: f.appService(), bridge, serviceName: 'worker', ...props });
  return Template.fromStack(f.stack);
}

test('scales the worker out on queue latency from the bridge, and disarms the CPU policy\'s scale-in', () => {
  const template = queueScaling();
  template.hasResourceProperties('AWS::CloudWatch::Alarm', {
    MetricName: 'QueueLatency', Namespace: 'NewRelic', Statistic: 'Maximum', Threshold: 30, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching',
  });
  template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'QueueLatency', Threshold: 5, EvaluationPeriods: 10, TreatMissingData: 'notBreaching' });
  template.hasResourceProperties('AWS::ApplicationAutoScaling::ScalingPolicy', {
    TargetTrackingScalingPolicyConfiguration: Match.objectLike({ DisableScaleIn: true }),
  });
});

test('fails when the scale-in latency is not below the scale-out latency', () => {
  expect(() => queueScaling({ scaleOutLatency: Duration.seconds(10), scaleInLatency: Duration.seconds(10) }))
    .toThrow(/scaleInLatency \("10 seconds"\) must be below scaleOutLatency \(10 seconds\)/);
});
