import { Duration } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { NewRelicMetricBridge, NewRelicMetricBridgeProps, NewRelicRegion } from '../../../lib';
import * as sns from 'aws-cdk-lib/aws-sns';
import { API_KEY_ARN, scalingFixture } from './fixture';
import { acknowledgedControls } from '../support/fixtures';

const SELECT = 'average(newrelic.unicorn.busy_workers) / average(newrelic.unicorn.workers) * 100';

function bridge(props: Partial<NewRelicMetricBridgeProps> = {}) {
  const f = scalingFixture();
  const b = new NewRelicMetricBridge(f.stack, 'Bridge', {
    accountId: 1234567,
    apiKeySecret: f.apiKey,
    nrqlSelect: SELECT,
    services: [{ newRelicName: 'rails-web', serviceName: 'web' }, { newRelicName: 'worker' }],
    ...props,
  });
  return { ...f, bridge: b, template: Template.fromStack(f.stack) };
}

function bridgeConfig(template: Template): Record<string, unknown> {
  const fn = Object.values(template.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { BRIDGE_CONFIG: Match.anyValue() } } } }))[0];
  return JSON.parse(fn.Properties.Environment.Variables.BRIDGE_CONFIG);
}

describe('defaults', () => {
  const { template, bridge: b } = bridge();

  test('the function gets the US endpoint and only the ARN of the API key secret', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: {
        POWERTOOLS_SERVICE_NAME: 'newrelic-bridge',
        NEW_RELIC_ENDPOINT: 'https://api.newrelic.com/graphql',
        NEW_RELIC_API_KEY_SECRET_ARN: API_KEY_ARN,
        BRIDGE_CONFIG: Match.anyValue(),
      } },
      Timeout: 42,
    });
    expect(JSON.stringify(template.toJSON())).not.toMatch(/SecretString|resolve:secretsmanager/);
  });

  test('the config maps services compactly and declares the metric with its bounds (a percentage: 0-100)', () => {
    expect(bridgeConfig(template)).toEqual({
      accountId: 1234567, from: 'Metric', facetAttribute: 'appName', services: [['rails-web', 'web'], 'worker'],
      metrics: [{ metricName: 'BusyWorkerRatio', select: SELECT, unit: 'Percent', min: 0, max: 100 }],
      namespace: 'NewRelic', dimensionName: 'ServiceName',
      samplesPerMinute: 1, delaySeconds: 60, attemptTimeoutMs: 8000, maxAttempts: 3,
    });
  });

  test('alarms when polls fail or stop, and never replays a failed poll', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      EvaluationPeriods: 5, DatapointsToAlarm: 3, Threshold: 1, TreatMissingData: 'breaching',
      Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(FILL(invocations, 0) < 1, 1, FILL(errors, 0))' })]),
    });
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0 });
  });

  test('polls once a minute', () => {
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
  });

  test('may read the secret and publish only to its namespace', () => {
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([
      Match.objectLike({ Action: ['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue'], Resource: API_KEY_ARN }),
      Match.objectLike({ Action: 'cloudwatch:PutMetricData', Resource: '*', Condition: { StringEquals: { 'cloudwatch:namespace': 'NewRelic' } } }),
    ]) } });
  });

  test('metricForService gives the one-minute average of a mapped service', () => {
    const metric = b.metricForService('web');
    expect(metric.namespace).toBe('NewRelic');
    expect(metric.dimensions).toEqual({ ServiceName: 'web' });
    expect(metric.period.toSeconds()).toBe(60);
  });

  test('fails when metricForService names a service that is not mapped', () => {
    expect(() => b.metricForService('rails-web')).toThrow(/serviceName \("rails-web"\) is not one of the mapped services. Use one of web, worker/);
  });
});

test('the EU region uses the EU endpoint', () => {
  const { template } = bridge({ region: NewRelicRegion.EU });
  template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ NEW_RELIC_ENDPOINT: 'https://api.eu.newrelic.com/graphql' }) } });
});

describe('alarm actions (Control Tower CT.CLOUDWATCH.PR.1)', () => {
  test('without alarmTopic the errors alarm has no action, acknowledged as the alarmTopic option', () => {
    const { template, bridge: b } = bridge();
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: Match.absent(), Threshold: 1 });
    expect(acknowledgedControls(b.errorsAlarm).cloudwatch_alarm_action_check).toMatch(/^\[option `alarmTopic`\] /);
  });

  test('with alarmTopic the errors alarm notifies the topic and nothing is acknowledged', () => {
    const f = scalingFixture();
    const topic = new sns.Topic(f.stack, 'Topic');
    const b = new NewRelicMetricBridge(f.stack, 'Bridge', { accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: SELECT, services: [{ newRelicName: 'worker' }], alarmTopic: topic });
    Template.fromStack(f.stack).hasResourceProperties('AWS::CloudWatch::Alarm', { AlarmActions: [{ Ref: f.stack.resolve((topic.node.defaultChild as sns.CfnTopic).logicalId) }] });
    expect(acknowledgedControls(b.errorsAlarm)).toEqual({});
  });
});

describe('validation', () => {
  test('fails when samplesPerMinute does not divide a minute', () => {
    expect(() => bridge({ samplesPerMinute: 7 })).toThrow(/samplesPerMinute \(7\) must be one of 1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60/);
  });

  test('fails when accountId is not a positive integer', () => {
    expect(() => bridge({ accountId: 0 })).toThrow(/accountId \(0\) must be a whole number/);
  });

  test('fails when a New Relic name could break out of the NRQL', () => {
    expect(() => bridge({ services: [{ newRelicName: "web') OR ('1" }] })).toThrow(/services\[\].newRelicName \("web'\) OR \('1"\) contains a quote/);
  });

  test('fails when nrqlSelect carries its own SINCE', () => {
    expect(() => bridge({ nrqlSelect: 'average(x) SINCE 1 day ago' })).toThrow(/nrqlSelect \("average\(x\) SINCE 1 day ago"\) must be a plain NRQL aggregate expression/);
  });

  test('fails when two mappings publish under the same service name', () => {
    expect(() => bridge({ services: [{ newRelicName: 'a', serviceName: 'web' }, { newRelicName: 'b', serviceName: 'web' }] })).toThrow(/services \(\["web"\]\) publish two New Relic applications/);
  });

  test('fails when the mapping does not fit the Lambda environment', () => {
    const services = Array.from({ length: 350 }, (_, i) => ({ newRelicName: `rails-application-number-${i}` }));
    expect(() => bridge({ services })).toThrow(/services \("350 services"\) need about \d+ bytes of Lambda environment; Lambda allows 4096/);
  });

  test('fails when the retries could outlast the one-minute schedule', () => {
    expect(() => bridge({ queryTimeout: Duration.seconds(20), maxAttempts: 3 })).toThrow(/queryTimeout \("20 seconds x 3 attempts"\) must be at least 1 second and at most 50 seconds/);
  });
});

describe('several metrics in the one request', () => {
  test('declares each additional metric with its own bounds and exposes it per service', () => {
    const f = scalingFixture();
    const bridge = new NewRelicMetricBridge(f.stack, 'Bridge', {
      accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: SELECT, services: [{ newRelicName: 'rails-worker', serviceName: 'worker' }],
      additionalMetrics: [{ metricName: 'QueueLatency', nrqlSelect: 'max(newrelic.sidekiq.queue.latency)', eventType: 'Metric', maxValue: 86400 }],
    });
    expect(bridgeConfig(Template.fromStack(f.stack)).metrics).toEqual([
      { metricName: 'BusyWorkerRatio', select: SELECT, unit: 'Percent', min: 0, max: 100 },
      { metricName: 'QueueLatency', select: 'max(newrelic.sidekiq.queue.latency)', unit: 'Seconds', min: 0, max: 86400, from: 'Metric' },
    ]);
    const latency = bridge.metric('QueueLatency', 'worker');
    expect([latency.metricName, latency.unit, latency.dimensions]).toEqual(['QueueLatency', 'Seconds', { ServiceName: 'worker' }]);
  });

  test('fails when a metric is asked for that the bridge does not publish', () => {
    const f = scalingFixture();
    const bridge = new NewRelicMetricBridge(f.stack, 'Bridge', { accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: SELECT, services: [{ newRelicName: 'worker' }] });
    expect(() => bridge.metric('QueueLatency', 'worker')).toThrow(/metricName \("QueueLatency"\) is not published by this bridge/);
  });

  test('fails when the bounds are reversed', () => {
    const f = scalingFixture();
    expect(() => new NewRelicMetricBridge(f.stack, 'Bridge', { accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: SELECT, services: [{ newRelicName: 'worker' }], minValue: 50, maxValue: 10 }))
      .toThrow(/minValue/);
  });
});
