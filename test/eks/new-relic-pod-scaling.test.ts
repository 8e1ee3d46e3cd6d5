import { Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import { EksHelmChartVersion, Keda, NewRelicPodScaling } from '../../lib/eks';
import { nagFindings } from '../support/app';
import { cfnLintFindings } from '../support/cfn-lint';
import { addonStack, importedCluster, manifestObjects } from './addons/test-cluster';
import { CloudWatchAnswer, Datapoint, ModelState, step } from './keda-model';

/** The metric NewRelicMetricBridge.metricForService('rails-web') returns with its defaults. */
const bridgeMetric = () => new cloudwatch.Metric({
  namespace: 'NewRelic', metricName: 'BusyWorkerRatio', dimensionsMap: { ServiceName: 'rails-web' },
  period: Duration.minutes(1), statistic: cloudwatch.Stats.AVERAGE, unit: cloudwatch.Unit.PERCENT,
});

function scaling(props: Partial<ConstructorParameters<typeof NewRelicPodScaling>[2]> = {}) {
  const stack = addonStack();
  const cluster = importedCluster(stack);
  const keda = new Keda(stack, 'Keda', { cluster });
  const construct = new NewRelicPodScaling(stack, 'Web', { cluster, keda, namespaceName: 'shop', deploymentName: 'rails-web', metric: bridgeMetric(), ...props });
  return { stack, construct, template: Template.fromStack(stack) };
}

describe('NewRelicPodScaling', () => {
  let stack: Stack;
  let template: Template;
  let scaledObject: ReturnType<typeof manifestObjects>[number];

  beforeAll(() => {
    ({ stack, template } = scaling());
    scaledObject = manifestObjects(template).find((o) => o.kind === 'ScaledObject')!;
  });

  test('scales the Deployment on the bridge metric (same namespace, metric, dimension and unit as ECS)', () => {
    expect(scaledObject.metadata).toEqual(expect.objectContaining({ name: 'rails-web-newrelic', namespace: 'shop' }));
    expect(scaledObject.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'rails-web' });
    expect(scaledObject.spec.triggers).toEqual([{
      type: 'aws-cloudwatch',
      metricType: 'Value',
      authenticationRef: { kind: 'ClusterTriggerAuthentication', name: Keda.AWS_AUTHENTICATION },
      metadata: {
        namespace: 'NewRelic', metricName: 'BusyWorkerRatio', dimensionName: 'ServiceName', dimensionValue: 'rails-web',
        metricStat: 'Average', metricStatPeriod: '60', metricCollectionTime: '180', metricEndTimeOffset: '0', metricUnit: 'Percent',
        targetMetricValue: '60', minMetricValue: '60', ignoreNullValues: 'false', awsRegion: '{TOKEN}',
      },
    }]);
  });

  test('replica range, poll interval, fallback that holds the count, slow scale-in', () => {
    expect(scaledObject.spec).toEqual(expect.objectContaining({
      pollingInterval: 60,
      minReplicaCount: 2,
      maxReplicaCount: 10,
      fallback: { failureThreshold: 3, replicas: 2, behavior: 'currentReplicasIfHigher' },
    }));
    expect(scaledObject.spec.advanced.horizontalPodAutoscalerConfig.behavior.scaleDown)
      .toEqual({ stabilizationWindowSeconds: 300, policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] });
  });

  test('KEDA reads CloudWatch as its operator: GetMetricData only', () => {
    const statements = Object.values(template.findResources('AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([{ Action: 'cloudwatch:GetMetricData', Effect: 'Allow', Resource: '*' }]);
  });

  test('the ScaledObject waits for the ClusterTriggerAuthentication, which waits for the chart', () => {
    const resources = template.findResources('Custom::AWSCDK-EKS-KubernetesResource');
    const [authId] = Object.entries(resources).find(([, r]) => JSON.stringify(r.Properties.Manifest).includes('ClusterTriggerAuthentication'))!;
    const so = Object.values(resources).find((r) => JSON.stringify(r.Properties.Manifest).includes('ScaledObject'))!;
    expect(so.DependsOn).toContain(authId);
    expect(resources[authId].DependsOn).toEqual([expect.stringMatching(/^Keda[0-9A-F]{8}$/)]);
  });

  test('a visible alarm when the metric has no sample for the whole window (missing data breaches)', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'NewRelic', MetricName: 'BusyWorkerRatio', Statistic: 'SampleCount', Threshold: 1,
      ComparisonOperator: 'LessThanThreshold', EvaluationPeriods: 3, TreatMissingData: 'breaching',
      Dimensions: [{ Name: 'ServiceName', Value: 'rails-web' }],
    });
  });

  test('has no unacknowledged cdk-nag findings and passes cfn-lint', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(cfnLintFindings(stack)).toEqual([]);
  });

  test('one manifest resource and one alarm per scaled Deployment', () => {
    const { template: two } = scaling();
    const before = Object.keys(two.toJSON().Resources).length;
    const stack2 = addonStack();
    const cluster = importedCluster(stack2);
    const keda = new Keda(stack2, 'Keda', { cluster });
    new NewRelicPodScaling(stack2, 'Web', { cluster, keda, namespaceName: 'shop', deploymentName: 'rails-web', metric: bridgeMetric() });
    new NewRelicPodScaling(stack2, 'Worker', { cluster, keda, namespaceName: 'shop', deploymentName: 'sidekiq', metric: bridgeMetric() });
    const after = Object.keys(Template.fromStack(stack2).toJSON().Resources).length;
    expect(after - before).toBe(2);
  });
});

describe('missing data never scales in (KEDA 2.20.2 + HPA model)', () => {
  const NOW = 1_800_000_030; // 30 s into a minute
  const minute = (ago: number) => Math.floor(NOW / 60) * 60 - ago * 60;
  /** The bridge stamps each sample with the start of the minute it queried: two minutes back. */
  const fresh = (value: number): Datapoint[] => [{ t: minute(2), value }, { t: minute(3), value: 60 }];
  const START: ModelState = { current: 6, ready: 6, failures: 0 };

  /** Runs `polls` consecutive polls of the same answer and returns every desired count. */
  function run(so: any, answer: CloudWatchAnswer, polls = 10, state: ModelState = START): number[] { // eslint-disable-line @typescript-eslint/no-explicit-any
    const out: number[] = [];
    let s = state;
    for (let i = 0; i < polls; i++) {
      // Same clock each poll: the stale/no-data case must not be rescued by time passing.
      const r = step(so, answer, NOW, s);
      out.push(r.desired);
      s = { ...s, failures: r.failures };
    }
    return out;
  }

  let so: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  beforeAll(() => {
    so = manifestObjects(scaling().template).find((o) => o.kind === 'ScaledObject');
  });

  test('control: a fresh low reading does scale in, a high one scales out (the model can tell)', () => {
    expect(step(so, { series: [fresh(10)] }, NOW, START).desired).toBe(2);
    expect(step(so, { series: [fresh(90)] }, NOW, START).desired).toBe(9);
  });

  test.each<[string, CloudWatchAnswer]>([
    ['no datapoint at all (bridge down, New Relic empty)', { series: [[]] }],
    ['stale data only (last sample older than the window)', { series: [[{ t: minute(4), value: 5 }, { t: minute(10), value: 5 }]] }],
    ['CloudWatch throttling', { error: 'ThrottlingException: Rate exceeded' }],
    ['CloudWatch access denied', { error: 'AccessDeniedException: not authorized to perform cloudwatch:GetMetricData' }],
    ['an answer without any series (partial answer)', { series: [] }],
  ])('%s: the count stays at 6 over ten polls, before and after the fallback threshold', (_name, answer) => {
    expect(run(so, answer)).toEqual(Array(10).fill(6));
  });

  test('errors with some pods not ready: fallback still keeps the current count', () => {
    expect(run(so, { series: [[]] }, 10, { current: 6, ready: 4, failures: 0 })).toEqual(Array(10).fill(6));
  });

  test('errors with no ready pod: KEDA cannot compute a fallback, the HPA gets no metric and keeps the count', () => {
    expect(run(so, { error: 'timeout' }, 10, { current: 6, ready: 0, failures: 0 })).toEqual(Array(10).fill(6));
  });

  test('readings come back after an outage: scaling resumes on them', () => {
    const after = step(so, { series: [fresh(90)] }, NOW, { ...START, failures: 7 });
    expect(after).toEqual({ desired: 9, failures: 0, reason: 'reading 90' });
  });

  test('control: KEDA\'s defaults (ignoreNullValues true, minMetricValue 0, no fallback) would scale in on no data', () => {
    const naive = JSON.parse(JSON.stringify(so));
    delete naive.spec.fallback;
    delete naive.spec.triggers[0].metadata.ignoreNullValues;
    delete naive.spec.triggers[0].metadata.minMetricValue;
    expect(run(naive, { series: [[]] }, 1)).toEqual([2]);
  });
});

describe('Keda add-on', () => {
  test('pinned chart in the keda namespace, plain operator service account, Pod Identity only', () => {
    const { template } = scaling();
    template.hasResourceProperties('Custom::AWSCDK-EKS-HelmChart', {
      Release: 'keda', Chart: 'keda', Repository: 'https://kedacore.github.io/charts', Version: '2.20.2', Namespace: 'keda', CreateNamespace: true,
    });
    template.hasResourceProperties('AWS::EKS::PodIdentityAssociation', { Namespace: 'keda', ServiceAccount: 'keda-operator' });
    template.hasResourceProperties('AWS::IAM::Role', {
      AssumeRolePolicyDocument: { Statement: [{ Action: ['sts:AssumeRole', 'sts:TagSession'], Effect: 'Allow', Principal: { Service: 'pods.eks.amazonaws.com' } }] },
    });
    const auth = manifestObjects(template).find((o) => o.kind === 'ClusterTriggerAuthentication')!;
    expect(auth.metadata.name).toBe('keda-aws-operator');
    expect(auth.spec).toEqual({ podIdentity: { provider: 'aws', identityOwner: 'keda' } });
    expect(JSON.stringify(template.toJSON())).not.toContain('eks.amazonaws.com/role-arn');
    const chart = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart'))[0];
    expect(chart.DependsOn).toEqual([expect.stringMatching(/^KedaPodIdentityAssociation/)]);
  });

  test('without scalers the operator role has no permissions', () => {
    const stack = addonStack();
    new Keda(stack, 'Keda', { cluster: importedCluster(stack) });
    Template.fromStack(stack).resourceCountIs('AWS::IAM::Policy', 0);
  });
});

describe('NewRelicPodScaling validation', () => {
  let stack: Stack;
  let cluster: eks.ICluster;
  let keda: Keda;
  beforeAll(() => {
    stack = addonStack();
    cluster = importedCluster(stack);
    keda = new Keda(stack, 'Keda', { cluster });
  });
  const make = (id: string, props: Partial<ConstructorParameters<typeof NewRelicPodScaling>[2]>) =>
    () => new NewRelicPodScaling(stack, id, { cluster, keda, namespaceName: 'shop', deploymentName: 'web', metric: bridgeMetric(), ...props });

  test('fails when minReplicas is 0 (KEDA would deactivate the workload on a low reading)', () => {
    expect(make('Zero', { minReplicas: 0 })).toThrow(/Zero: minReplicas \(0\) must be a whole number from 1 to 1000/);
  });

  test('fails when minReplicas exceeds maxReplicas', () => {
    expect(make('Order', { minReplicas: 5, maxReplicas: 3 })).toThrow(/Order: minReplicas \(5\) must not exceed maxReplicas \(3\)/);
  });

  test('fails when the window is shorter than two minutes (the bridge\'s newest sample is two minutes old)', () => {
    expect(make('Short', { metricWindow: Duration.minutes(1) })).toThrow(/Short: metricWindow \("1 minute"\) is shorter than 2 minutes/);
  });

  test('fails when the window is not a whole number of periods', () => {
    expect(make('Odd', { metricWindow: Duration.seconds(150) })).toThrow(/Odd: metricWindow \("2 minutes 30 seconds"\) is not a multiple of the metric period \(60 seconds\)/);
  });

  test('fails on a metric without dimensions or a bad Deployment name', () => {
    const flat = new cloudwatch.Metric({ namespace: 'NewRelic', metricName: 'BusyWorkerRatio', period: Duration.minutes(1) });
    expect(make('Flat', { metric: flat })).toThrow(/Flat: metric \("BusyWorkerRatio"\) has no dimensions/);
    expect(make('Name', { deploymentName: 'Rails_Web' })).toThrow(/Name: deploymentName \("Rails_Web"\) is not a valid DNS-1123 label/);
  });

  test('fails on a target that is not positive', () => {
    expect(make('Target', { targetValue: 0 })).toThrow(/Target: targetValue \(0\) must be a number from/);
  });

  test('Keda refuses another chart', () => {
    expect(() => new Keda(stack, 'Other', { cluster, chart: EksHelmChartVersion.KARPENTER })).toThrow(/Other: chart \("karpenter"\) is not the keda chart/);
  });
});

