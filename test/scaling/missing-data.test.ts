// Issue 19: missing data never scales in, on every scaling path. The three paths (ECS step scaling,
// ECS queue scaling, EKS pod scaling) run through ONE function with ONE case list
// (test/support/missing-data.ts): the New Relic bridge answers each case, what it publishes lands in
// CloudWatch after half an hour of neutral data, and each path's consumer, read from its synthesized
// template (CloudWatch alarms and step policies; KEDA ScaledObject + HPA), runs for 30 minutes.
// MISSING_DATA_REPORT=1 prints the case -> outcome table of the closing note.
import { Template } from 'aws-cdk-lib/assertions';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { Keda, NewRelicMetricBridge, NewRelicPodScaling, QueueLatencyScaling, ServiceStepScaling } from '../../lib';
import { poll } from '../../handlers/newrelic-bridge/bridge';
import { BridgeConfig } from '../../handlers/newrelic-bridge/config';
import { addonStack, importedCluster, manifestObjects } from '../eks/addons/test-cluster';
import { kedaPath } from '../eks/keda-model';
import { scalingFixture } from '../ecs/scaling/fixture';
import {
  alarmsOnMetric, cloudWatchAlarmPath, CONTROL_CASE, DataSource, expectMissingDataNeverScalesIn, expectMissingDataRule, MissingDataRow, missingDataTable, ScalingPathModel,
} from '../support/missing-data';

function bridgeFor(f: ReturnType<typeof scalingFixture>): NewRelicMetricBridge {
  return new NewRelicMetricBridge(f.stack, 'Bridge', {
    accountId: 1234567, apiKeySecret: f.apiKey, nrqlSelect: 'average(newrelic.unicorn.busy_ratio)', services: [{ newRelicName: 'rails-worker', serviceName: 'worker' }],
    additionalMetrics: [{ metricName: 'QueueLatency', nrqlSelect: 'max(newrelic.sidekiq.queue.latency)' }],
  });
}

/** The source every path shares: one real poll of the bridge's logic against a faked NerdGraph answer. */
const bridgeSource: DataSource = async (c, metricName, value) => {
  const NOW = Date.UTC(2026, 10, 26, 3, 30, 20);
  const SINCE = Date.UTC(2026, 10, 26, 3, 28, 0) / 1000;
  const config: BridgeConfig = {
    endpoint: 'https://nerdgraph.invalid/graphql', accountId: 1, apiKeySecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:nr-AbCdEf', from: 'Metric', facetAttribute: 'appName',
    services: [{ facet: 'rails', dimension: 'worker' }],
    metrics: [{ metricName, select: 'average(x)', unit: 'None', min: 0 }],
    namespace: 'NewRelic', dimensionName: 'ServiceName', samplesPerMinute: 2, delaySeconds: 60, attemptTimeoutMs: 1000, maxAttempts: 1,
  };
  const rows = (begin: number, v: number | null) => [{ facet: 'rails', beginTimeSeconds: begin, value: v }, { facet: 'rails', beginTimeSeconds: begin + 30, value: v }];
  const answers: Record<typeof c, unknown> = {
    [CONTROL_CASE]: { data: { actor: { account: { q0: { results: rows(SINCE, value) } } } } },
    // New Relic has no value for the minute (the agent is down, no transactions).
    'no data': { data: { actor: { account: { q0: { results: rows(SINCE, null) } } } } },
    // The newest value New Relic holds is an hour old.
    'stale data': { data: { actor: { account: { q0: { results: rows(SINCE - 3600, value) } } } } },
    // A partial answer beside an error: its numbers cannot be trusted.
    'error from the source': { errors: [{ message: 'NRQL query timed out' }], data: { actor: { account: { q0: { results: rows(SINCE, value) } } } } },
  };
  const published: number[] = [];
  const log = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };
  const outcome = await poll(config, {
    secrets: { send: async () => ({ SecretString: 'NRAK-TEST' }) } as never,
    cloudwatch: {
      send: async (cmd: PutMetricDataCommand) => {
        published.push(...(cmd.input.MetricData ?? []).filter((d) => d.MetricName === metricName).map((d) => d.Value!));
        return {};
      },
    } as never,
    fetch: (async () => new Response(JSON.stringify(answers[c]), { status: 200 })) as typeof fetch,
    log, sleep: async () => undefined, now: () => NOW,
  });
  return { published, failed: Boolean(outcome.failed) };
};

function ecsStepScalingPath(): ScalingPathModel {
  const f = scalingFixture();
  const bridge = bridgeFor(f);
  new ServiceStepScaling(f.stack, 'Scaling', { service: f.appService(), metric: bridge.metricForService('worker') });
  // Defaults: -1 task at or below 30 %, +1 from 70 %.
  return cloudWatchAlarmPath({ name: 'ECS step scaling', template: Template.fromStack(f.stack), metric: { metricName: 'BusyWorkerRatio', dimensions: { ServiceName: 'worker' } }, neutralValue: 50, scaleInValue: 10 });
}

function queueScalingPath(): ScalingPathModel {
  const f = scalingFixture();
  const bridge = bridgeFor(f);
  new QueueLatencyScaling(f.stack, 'Queue', { service: f.appService(), bridge, serviceName: 'worker' });
  // Defaults: -1 worker at or below 5 s of latency, +1 from 30 s.
  return cloudWatchAlarmPath({ name: 'ECS queue scaling', template: Template.fromStack(f.stack), metric: { metricName: 'QueueLatency', dimensions: { ServiceName: 'worker' } }, neutralValue: 15, scaleInValue: 1 });
}

/** NewRelicPodScaling on the bridge metric; `tamper` edits the ScaledObject before the model runs it. */
function eksPodScalingPath(tamper: (so: any) => void = () => undefined): ScalingPathModel { // eslint-disable-line @typescript-eslint/no-explicit-any
  const stack = addonStack();
  const cluster = importedCluster(stack);
  const keda = new Keda(stack, 'Keda', { cluster });
  const metric = new cloudwatch.Metric({
    namespace: 'NewRelic', metricName: 'BusyWorkerRatio', dimensionsMap: { ServiceName: 'rails-web' }, period: Duration.minutes(1), statistic: cloudwatch.Stats.AVERAGE,
  });
  new NewRelicPodScaling(stack, 'Web', { cluster, keda, namespaceName: 'shop', deploymentName: 'rails-web', metric });
  const template = Template.fromStack(stack);
  const scaledObject = manifestObjects(template).find((o) => o.kind === 'ScaledObject')!;
  tamper(scaledObject);
  // Default target 60 % per pod, 2 to 10 replicas; 6 running.
  return kedaPath({
    name: 'EKS pod scaling (KEDA 2.20.2 + HPA)', scaledObject, alarms: alarmsOnMetric(template, { metricName: 'BusyWorkerRatio', dimensions: { ServiceName: 'rails-web' } }),
    neutralValue: 60, scaleInValue: 10, replicas: 6,
  });
}

describe('missing data never scales in, on every path (one helper, one case list)', () => {
  const rows: MissingDataRow[] = [];
  afterAll(() => {
    if (process.env.MISSING_DATA_REPORT) process.stdout.write(`\n${missingDataTable(rows)}\n`);
  });

  test.each<[string, () => ScalingPathModel]>([
    ['ECS step scaling', ecsStepScalingPath],
    ['ECS queue scaling', queueScalingPath],
    ['EKS pod scaling', () => eksPodScalingPath()],
  ])('%s: no scale-in and a visible alarm for no data, stale data and an error from the source', async (_name, build) => {
    const result = await expectMissingDataRule(build(), bridgeSource);
    rows.push(...result);
    expect(result.map((r) => r.case)).toEqual([CONTROL_CASE, 'no data', 'stale data', 'error from the source']);
    expect(result.filter((r) => r.case !== CONTROL_CASE).every((r) => r.published === 'nothing' && r.visible !== 'none')).toBe(true);
    expect(result[0].outcome).toMatch(/^scaled in at minute \d+$/);
  });

  test('the rule fails KEDA set up as in keda-docs#968 (no data read as 0, no fallback): it scales in', async () => {
    const plain = eksPodScalingPath((so) => {
      delete so.spec.fallback;
      Object.assign(so.spec.triggers[0].metadata, { ignoreNullValues: 'true', minMetricValue: '0' });
    });
    await expect(expectMissingDataRule(plain, bridgeSource)).rejects.toThrow(/EKS pod scaling \(KEDA 2\.20\.2 \+ HPA\), no data: scaled in at minute \d+/);
  });
});

describe('template side (structure of the ECS alarms)', () => {
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

  test('both checks fail a path built with aws-cdk-lib scaleOnMetric (missing data left at the CloudWatch default)', async () => {
    const f = scalingFixture();
    const bridge = bridgeFor(f);
    f.appService().scalableTaskCount.scaleOnMetric('Plain', {
      metric: bridge.metricForService('worker'), adjustmentType: appscaling.AdjustmentType.CHANGE_IN_CAPACITY,
      scalingSteps: [{ upper: 30, change: -1 }, { lower: 70, change: 1 }],
    });
    const template = Template.fromStack(f.stack);
    expect(() => expectMissingDataNeverScalesIn(template, { metricName: 'BusyWorkerRatio' }))
      .toThrow(/TreatMissingData is missing \(the default\)[\s\S]*no alarm on BusyWorkerRatio goes to ALARM on missing data/);
    const path = cloudWatchAlarmPath({ name: 'plain scaleOnMetric', template, metric: { metricName: 'BusyWorkerRatio' }, neutralValue: 50, scaleInValue: 10 });
    await expect(expectMissingDataRule(path, bridgeSource)).rejects.toThrow(/plain scaleOnMetric, no data: no alarm went to ALARM in 30 minutes/);
  });
});
