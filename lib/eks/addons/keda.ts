import { Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { invalidProp } from '../../private/validation';
import { EksHelmChartVersion } from '../versions';
import { deepMerge } from './private/merge';
import { podIdentity } from './private/pod-identity';

/** How KEDA runs: what `EksPlatformProps.keda` takes. */
export interface KedaOptions {
  /**
   * The Helm chart.
   *
   * @default EksHelmChartVersion.KEDA
   */
  readonly chart?: EksHelmChartVersion;

  /**
   * Extra chart values, deep-merged over the computed ones; yours win.
   *
   * @default - none
   */
  readonly values?: { [key: string]: unknown };
}

/** Props of {@link Keda}. */
export interface KedaProps extends KedaOptions {
  /** The cluster KEDA runs in. */
  readonly cluster: eks.ICluster;
}

const NAMESPACE = 'keda';
const OPERATOR_SERVICE_ACCOUNT = 'keda-operator';

/**
 * KEDA (pinned chart) in the `keda` namespace. Its operator gets AWS credentials from EKS Pod
 * Identity (the chart's own service account, no IRSA annotation), and one
 * ClusterTriggerAuthentication (`Keda.AWS_AUTHENTICATION`) lets any ScaledObject's AWS triggers
 * use that identity. The operator role starts with no permissions: scalers that need some grant
 * them (e.g. `grantCloudWatchMetricsRead()`).
 */
export class Keda extends Construct {
  /** Name of the ClusterTriggerAuthentication that authenticates AWS triggers as the KEDA operator. */
  public static readonly AWS_AUTHENTICATION = 'keda-aws-operator';

  /** The namespace KEDA runs in. */
  public static readonly NAMESPACE = NAMESPACE;

  /** The KEDA operator's role (Pod Identity). */
  public readonly operatorRole: iam.IRole;
  /** The chart. */
  public readonly chart: eks.HelmChart;
  /** The ClusterTriggerAuthentication for AWS triggers. */
  public readonly awsAuthentication: eks.KubernetesManifest;
  private readonly role: iam.Role;
  private cloudWatchGranted = false;

  constructor(scope: Construct, id: string, props: KedaProps) {
    super(scope, id);
    const version = props.chart ?? EksHelmChartVersion.KEDA;
    if (version.chart !== 'keda') {
      invalidProp(this, 'chart', version.chart, 'is not the keda chart', "Use EksHelmChartVersion.KEDA or EksHelmChartVersion.of('keda', ...).");
    }
    const identity = podIdentity(this, props.cluster, NAMESPACE, OPERATOR_SERVICE_ACCOUNT, 'KEDA operator: reads the metrics ScaledObjects scale on');
    this.role = identity.role;
    this.operatorRole = identity.role;

    this.chart = new eks.HelmChart(this, 'Resource', {
      cluster: props.cluster,
      chart: version.chart,
      repository: version.repository,
      version: version.version,
      release: 'keda',
      namespace: NAMESPACE,
      createNamespace: true,
      values: deepMerge({
        // The chart creates plain service accounts: no IRSA annotation, credentials from Pod Identity.
        serviceAccount: { operator: { create: true, name: OPERATOR_SERVICE_ACCOUNT } },
      }, props.values),
    });
    this.chart.node.addDependency(identity.association);

    this.awsAuthentication = new eks.KubernetesManifest(this, 'AwsAuthentication', {
      cluster: props.cluster,
      manifest: [{
        apiVersion: 'keda.sh/v1alpha1',
        kind: 'ClusterTriggerAuthentication',
        metadata: { name: Keda.AWS_AUTHENTICATION },
        // identityOwner keda: the operator's own Pod Identity, so workloads need no AWS role to be scaled.
        spec: { podIdentity: { provider: 'aws', identityOwner: 'keda' } },
      }],
      overwrite: true,
    });
    // The CRD comes with the chart.
    this.awsAuthentication.node.addDependency(this.chart);
  }

  /**
   * Lets the operator read CloudWatch metrics (`cloudwatch:GetMetricData`) for `aws-cloudwatch`
   * triggers. Safe to call more than once.
   */
  public grantCloudWatchMetricsRead(): void {
    if (this.cloudWatchGranted) return;
    this.cloudWatchGranted = true;
    this.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] }));
    const policy = this.role.node.tryFindChild('DefaultPolicy') ?? this.role;
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'cloudwatch:GetMetricData has no resource-level permissions and no condition key for the namespace; it is read-only.',
    });
  }
}
