// Issue 19: every ECS scaling path passes the shared missing-data helper (no data, stale data, an
// error at the source: no scale-in and a visible alarm), template side and source side.
import { Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { NewRelicMetricBridge, QueueLatencyScaling, ServiceStepScaling } from '../../../lib';
import { poll } from '../../../handlers/newrelic-bridge/bridge';
import { BridgeConfig } from '../../../handlers/newrelic-bridge/config';
import { expectMissingDataNeverScalesIn, expectSourceLeavesMetricMissing, MissingDataCase } from '../../support/missing-data';
import { scalingFixture } from './fixture';

function bridgeFor(f: ReturnType<typeof scalingFixture>): NewRelicMetricBridge {
  return new NewRelicMetricBridge(f.stack, 'Bridge', {
    accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: 'average(newrelic.unicorn.busy_ratio)', services: [{ newRelicName: 'rails-worker', serviceName: 'worker' }],
    additionalMetrics: [{ metricName: 'QueueLatency', nrqlSelect: 'max(newrelic.sidekiq.queue.latency)' }],
  });
}

describe('template side', () => {
  test('ECS step scaling on the busy-worker ratio', () => {
    const f = scalingFixture();
    const bridge = bridgeFor(f);
    new ServiceStepScaling(f.stack, 'Scaling', { service: f.appService(), metric: bridge.metricForService('worker') });
    const verdict = expectMissingDataNeverScalesIn(Template.fromStack(f.stack), { metricName: 'BusyWorkerRatio', dimensions: { ServiceName: 'worker' } });
    expect(verdict.scaleInAlarms).toHaveLength(1);
    expect(verdict.visibleAlarms).toEqual([expect.stringMatching(/^ScalingMissingDataAlarm/)]);
  });

  test('queue scaling on the job queue latency', () => {
    const f = scalingFixture();
    const bridge = bridgeFor(f);
    new QueueLatencyScaling(f.stack, 'Queue', { service: f.appService(), bridge, serviceName: 'worker' });
    const verdict = expectMissingDataNeverScalesIn(Template.fromStack(f.stack), { metricName: 'QueueLatency', dimensions: { ServiceName: 'worker' } });
    expect(verdict.visibleAlarms).toEqual([expect.stringMatching(/^QueueScalingMissingDataAlarm/)]);
  });

  test('the helper fails a path built with aws-cdk-lib scaleOnMetric (missing data left at the CloudWatch default)', () => {
    const f = scalingFixture();
    const bridge = bridgeFor(f);
    f.appService().scalableTaskCount.scaleOnMetric('Plain', {
      metric: bridge.metricForService('worker'), adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [{ upper: 30, change: -1 }, { lower: 70, change: 1 }],
    });
    expect(() => expectMissingDataNeverScalesIn(Template.fromStack(f.stack), { metricName: 'BusyWorkerRatio' }))
      .toThrow(/TreatMissingData is missing \(the default\)[\s\S]*no alarm on BusyWorkerRatio goes to ALARM on missing data/);
  });
});

describe('source side: the bridge leaves the metric missing', () => {
  const NOW = Date.UTC(2026, 10, 26, 3, 30, 20);
  const SINCE = Date.UTC(2026, 10, 26, 3, 28, 0) / 1000;
  const config = (samplesPerMinute: number): BridgeConfig => ({
    endpoint: 'https://nerdgraph.invalid/graphql', accountId: 1, apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nr-AbCdEf', from: 'Metric', facetAttribute: 'appName',
    services: [{ facet: 'rails-worker', dimension: 'worker' }], metrics: [{ metricName: 'QueueLatency', select: 'max(x)', unit: 'Seconds', min: 0 }],
    namespace: 'NewRelic', dimensionName: 'ServiceName', samplesPerMinute, delaySeconds: 60, attemptTimeoutMs: 1000, maxAttempts: 1,
  });
  const answers: Record<MissingDataCase, unknown> = {
    'no data': { data: { actor: { account: { q0: { results: [{ facet: 'rails-worker', value: null }] } } } } },
    'stale data': { data: { actor: { account: { q0: { results: [{ facet: 'rails-worker', beginTimeSeconds: SINCE - 3600, value: 0 }] } } } } },
    'error from the source': { errors: { message: 'NRQL query timed out' }, data: { actor: { account: { q0: { results: [{ facet: 'rails-worker', value: 0 }] } } } } },
  };

  test('no data, stale data and an error publish nothing, and an error fails the poll', async () => {
    const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
    const results = await expectSourceLeavesMetricMissing(async (c) => {
      const published: number[] = [];
      const outcome = await poll(config(c === 'stale data' ? 2 : 1), {
        secrets: { send: async () => ({ SecretString: 'NRAK-TEST' }) } as never,
        cloudwatch: { send: async (cmd: PutMetricDataCommand) => { published.push(...(cmd.input.MetricData ?? []).map((d) => d.Value!)); return {}; } } as never,
        fetch: (async () => new Response(JSON.stringify(answers[c]), { status: 200 })) as typeof fetch,
        log, sleep: async () => undefined, now: () => NOW,
      });
      return { published, failed: Boolean(outcome.failed) };
    });
    expect(results['error from the source'].failed).toBe(true);
    expect(results['no data'].failed).toBe(false);
  });
});
