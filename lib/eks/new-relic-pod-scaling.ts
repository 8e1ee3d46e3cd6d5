import { Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as sns from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { acknowledgeControl } from '../private/guard';
import { invalidProp, requireDnsLabel, requireDurationInRange, requireIntegerInRange, requireNumberInRange, requireOrdered } from '../private/validation';
import { Keda } from './addons/keda';

/** What to scale and on which metric: what `EksPlatform.addNewRelicPodScaling()` takes. */
export interface NewRelicPodScalingOptions {
  /**
   * Where the missing-data alarm notifies (AWS Control Tower CT.CLOUDWATCH.PR.1 wants an action on every alarm).
   *
   * @default - no action: the alarm only shows in CloudWatch
   */
  readonly alarmTopic?: sns.ITopic;

  /** Namespace of the Deployment. */
  readonly namespaceName: string;

  /** Name of the Deployment to scale. */
  readonly deploymentName: string;

  /**
   * The metric to scale on: the one the ECS services use, `NewRelicMetricBridge.metricForService()`,
   * so ECS and EKS services together still cost one New Relic request per poll. A per-pod ratio
   * (e.g. busy workers in percent): replicas follow `ceil(current * value / targetValue)`.
   */
  readonly metric: cloudwatch.Metric;

  /**
   * The metric value each replica should run at.
   *
   * @default 60
   */
  readonly targetValue?: number;

  /**
   * Fewest replicas (at least 1: KEDA would deactivate a workload at 0 on a low reading).
   *
   * @default 2
   */
  readonly minReplicas?: number;

  /**
   * Most replicas.
   *
   * @default 10
   */
  readonly maxReplicas?: number;

  /**
   * How often KEDA reads the metric. The bridge publishes once a minute.
   *
   * @default Duration.minutes(1)
   */
  readonly pollingInterval?: Duration;

  /**
   * How far back a reading may be. The newest datapoint in this window is used; older than that
   * counts as no data, which never scales in. Must cover the bridge's `ingestionDelay` plus two
   * minutes (its datapoints are stamped with the start of the minute it queried).
   *
   * @default Duration.minutes(3)
   */
  readonly metricWindow?: Duration;

  /**
   * Consecutive failed reads (no data, stale data, CloudWatch errors) after which KEDA holds the
   * current replica count (never fewer than `minReplicas`) until readings come back. Before that,
   * the HPA gets no metric and does not scale either way.
   *
   * @default 3
   */
  readonly failureThreshold?: number;

  /**
   * How long the HPA keeps the highest recent recommendation before it removes pods.
   *
   * @default Duration.minutes(5)
   */
  readonly scaleInStabilization?: Duration;
}

/** Props of {@link NewRelicPodScaling}. */
export interface NewRelicPodScalingProps extends NewRelicPodScalingOptions {
  /** The cluster the Deployment runs in. */
  readonly cluster: eks.ICluster;

  /** The KEDA add-on of that cluster. */
  readonly keda: Keda;
}

/**
 * Scales a Deployment on the New Relic metric that `NewRelicMetricBridge` publishes to CloudWatch
 * (KEDA `aws-cloudwatch` trigger, authenticated as the KEDA operator), with the library's rule:
 * missing data never scales in.
 *
 * - no datapoint in `metricWindow` (the bridge failed, New Relic returned nothing, data is
 *   stale): `ignoreNullValues: false` makes the read an error;
 * - CloudWatch errors or throttling: the read is an error;
 * - an error gives the HPA no metric (no scaling) until `failureThreshold`, then KEDA's fallback
 *   `currentReplicasIfHigher` holds the current count;
 * - an answer without any result series: KEDA returns `minMetricValue`, set to the target, which
 *   means "keep the current count".
 *
 * A CloudWatch alarm (`missingDataAlarm`) makes the gap visible: it fires when the metric has had
 * no sample for the whole window.
 */
export class NewRelicPodScaling extends Construct {
  /** The ScaledObject. */
  public readonly scaledObject: eks.KubernetesManifest;
  /** Fires when the metric has no sample for `metricWindow`. */
  public readonly missingDataAlarm: cloudwatch.Alarm;
  /** The ScaledObject as applied, for inspection and tests. */
  public readonly scaledObjectSpec: { [key: string]: unknown };

  constructor(scope: Construct, id: string, props: NewRelicPodScalingProps) {
    super(scope, id);
    requireDnsLabel(this, 'namespaceName', props.namespaceName);
    requireDnsLabel(this, 'deploymentName', props.deploymentName);
    const target = props.targetValue ?? 60;
    requireNumberInRange(this, 'targetValue', target, Number.MIN_VALUE, Number.MAX_SAFE_INTEGER);
    const minReplicas = props.minReplicas ?? 2;
    const maxReplicas = props.maxReplicas ?? 10;
    requireIntegerInRange(this, 'minReplicas', minReplicas, 1, 1000);
    requireIntegerInRange(this, 'maxReplicas', maxReplicas, 1, 1000);
    requireOrdered(this, 'minReplicas', minReplicas, 'maxReplicas', maxReplicas);
    const failureThreshold = props.failureThreshold ?? 3;
    requireIntegerInRange(this, 'failureThreshold', failureThreshold, 1, 60);
    const polling = props.pollingInterval ?? Duration.minutes(1);
    requireDurationInRange(this, 'pollingInterval', polling, Duration.seconds(10), Duration.minutes(10));
    const window = props.metricWindow ?? Duration.minutes(3);
    requireDurationInRange(this, 'metricWindow', window, Duration.minutes(2), Duration.minutes(30));
    const stabilization = props.scaleInStabilization ?? Duration.minutes(5);
    requireDurationInRange(this, 'scaleInStabilization', stabilization, Duration.seconds(0), Duration.hours(1), { maxReason: 'the HPA limit' });

    const metric = props.metric;
    const period = metric.period.toSeconds();
    // cloudwatch.Metric already refuses periods other than 1, 5, 10, 30 s or whole minutes, as KEDA does.
    if (window.toSeconds() % period !== 0) {
      invalidProp(this, 'metricWindow', window.toHumanString(), `is not a multiple of the metric period (${period} seconds)`, 'Use whole minutes.');
    }
    const dimensions = Object.entries(metric.dimensions ?? {}).sort(([a], [b]) => a.localeCompare(b));
    if (dimensions.length === 0) {
      invalidProp(this, 'metric', metric.metricName, 'has no dimensions, so every service would share one reading', 'Use NewRelicMetricBridge.metricForService(serviceName).');
    }

    props.keda.grantCloudWatchMetricsRead();
    const targetText = String(target);
    this.scaledObjectSpec = {
      apiVersion: 'keda.sh/v1alpha1',
      kind: 'ScaledObject',
      metadata: { name: `${props.deploymentName}-newrelic`, namespace: props.namespaceName },
      spec: {
        scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name: props.deploymentName },
        pollingInterval: polling.toSeconds(),
        minReplicaCount: minReplicas,
        maxReplicaCount: maxReplicas,
        fallback: { failureThreshold, replicas: minReplicas, behavior: 'currentReplicasIfHigher' },
        advanced: {
          horizontalPodAutoscalerConfig: {
            behavior: {
              scaleDown: { stabilizationWindowSeconds: stabilization.toSeconds(), policies: [{ type: 'Pods', value: 1, periodSeconds: 60 }] },
            },
          },
        },
        triggers: [{
          type: 'aws-cloudwatch',
          // Value: a per-pod ratio, so the HPA computes ceil(current * value / target).
          metricType: 'Value',
          authenticationRef: { kind: 'ClusterTriggerAuthentication', name: Keda.AWS_AUTHENTICATION },
          metadata: {
            namespace: metric.namespace,
            metricName: metric.metricName,
            dimensionName: dimensions.map(([k]) => k).join(';'),
            dimensionValue: dimensions.map(([, v]) => String(v)).join(';'),
            metricStat: metric.statistic,
            metricStatPeriod: String(period),
            metricCollectionTime: String(window.toSeconds()),
            metricEndTimeOffset: '0',
            ...(metric.unit !== undefined ? { metricUnit: metric.unit } : {}),
            targetMetricValue: targetText,
            // Only used when CloudWatch answers without any series: the target means "keep the count".
            minMetricValue: targetText,
            ignoreNullValues: 'false',
            awsRegion: metric.region ?? Stack.of(this).region,
          },
        }],
      },
    };
    this.scaledObject = new eks.KubernetesManifest(this, 'Resource', { cluster: props.cluster, manifest: [this.scaledObjectSpec], overwrite: true });
    // The ScaledObject CRD and the authentication must exist first; on delete, the ScaledObject goes first.
    this.scaledObject.node.addDependency(props.keda.awsAuthentication);

    const windowMinutes = Math.max(1, Math.round(window.toSeconds() / period));
    this.missingDataAlarm = new cloudwatch.Alarm(this, 'MissingDataAlarm', {
      alarmDescription: `No ${metric.metricName} sample for ${props.namespaceName}/${props.deploymentName} for ${window.toHumanString()}: KEDA holds its replica count until data returns`,
      metric: metric.with({ statistic: cloudwatch.Stats.SAMPLE_COUNT }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: windowMinutes,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    if (props.alarmTopic) {
      this.missingDataAlarm.addAlarmAction(new cloudwatchActions.SnsAction(props.alarmTopic));
    } else {
      acknowledgeControl(this.missingDataAlarm, 'cloudwatch_alarm_action_check',
        'No alarmTopic given: the missing-data alarm shows in CloudWatch only; give a topic to be notified when scaling holds for lack of data.', 'alarmTopic');
    }
  }
}
