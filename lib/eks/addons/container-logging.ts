import { RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allowLogsToUse, newKey } from '../../private/kms';
import { deepMerge } from './private/merge';
import { addonServiceAccount } from './private/service-account';
import { EksPodIdentityServiceAccount } from '../pod-identity';
import { requireDnsLabel } from './private/names';
import { duplicatesOf, invalidProp } from '../../private/validation';
import { EksHelmChartVersion } from '../versions';

/** Container log shipping (Fluent Bit to CloudWatch Logs): what {@link EksPlatform} takes as `containerLogging`. */
export interface EksContainerLoggingOptions {
  /**
   * How long the logs are kept. AWS Control Tower (CT.CLOUDWATCH.PR.2) asks for at least a year;
   * a shorter retention is cheaper and fails that control.
   *
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly retention?: logs.RetentionDays;
  /**
   * KMS key that encrypts the log groups. A key passed in must allow the CloudWatch Logs service
   * principal of the region to use it.
   *
   * @default - a new key with rotation on
   */
  readonly encryptionKey?: kms.IKey;
}

/** Props of {@link ContainerLogging}. */
export interface ContainerLoggingProps extends EksContainerLoggingOptions {
  /** The cluster whose container logs are shipped. */
  readonly cluster: eks.ICluster;
  /** Namespaces whose container logs are shipped; each gets its own log group. */
  readonly namespaces: string[];
  /**
   * Prefix of the log group names; the namespace is appended.
   *
   * @default '/aws/eks/<cluster name>/containers/'
   */
  readonly logGroupPrefix?: string;
  /**
   * What happens to the log groups when they leave the stack.
   *
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * The Helm chart.
   *
   * @default EksHelmChartVersion.AWS_FOR_FLUENT_BIT
   */
  readonly chart?: EksHelmChartVersion;
  /**
   * Extra chart values, deep-merged over the computed ones; yours win.
   *
   * @default - none
   */
  readonly values?: { [key: string]: unknown };
}

const SERVICE_ACCOUNT = 'aws-for-fluent-bit';

/**
 * Fluent Bit (aws-for-fluent-bit, pinned Helm chart) as a DaemonSet that ships the container logs
 * of the listed namespaces to CloudWatch Logs: one KMS-encrypted log group per namespace with a
 * retention, and write access to those groups only.
 */
export class ContainerLogging extends Construct {
  /** The key that encrypts the log groups. */
  public readonly encryptionKey: kms.IKey;
  /** The Fluent Bit service account. */
  public readonly serviceAccount: EksPodIdentityServiceAccount;
  /** The aws-for-fluent-bit chart. */
  public readonly chart: eks.HelmChart;
  /** Records whose namespace cannot be resolved land here instead of being dropped. */
  public readonly fallbackLogGroup: logs.LogGroup;

  private readonly groups = new Map<string, logs.LogGroup>();

  constructor(scope: Construct, id: string, props: ContainerLoggingProps) {
    super(scope, id);
    if (props.namespaces.length === 0) invalidProp(this, 'namespaces', [], 'is empty, so no logs would be shipped', 'List the namespaces whose logs to keep.');
    props.namespaces.forEach((ns, i) => requireDnsLabel(this, `namespaces[${i}]`, ns));
    const dup = duplicatesOf(props.namespaces);
    if (dup.length > 0) invalidProp(this, 'namespaces', props.namespaces, `lists ${dup.map((d) => `"${d}"`).join(', ')} more than once`, 'List each namespace once.');
    const prefix = props.logGroupPrefix ?? `/aws/eks/${props.cluster.clusterName}/containers/`;
    if (!/^[-._/#A-Za-z0-9]*$/.test(prefix.replace(/\$\{Token\[[^\]]+\]\}/g, ''))) {
      invalidProp(this, 'logGroupPrefix', prefix, 'may contain only letters, digits and . _ - / #', 'Use a prefix such as "/aws/eks/prod/".');
    }

    const stack = Stack.of(this);
    this.encryptionKey = props.encryptionKey ?? this.newKey();
    const groupProps = {
      retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: this.encryptionKey,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    };
    for (const ns of props.namespaces) {
      this.groups.set(ns, new logs.LogGroup(this, `LogGroup-${ns}`, { ...groupProps, logGroupName: `${prefix}${ns}` }));
    }
    // '_' is not allowed in namespace names, so this group can never clash with a namespace's group.
    this.fallbackLogGroup = new logs.LogGroup(this, 'FallbackLogGroup', { ...groupProps, logGroupName: `${prefix}_fallback` });

    this.serviceAccount = addonServiceAccount(this, props.cluster, SERVICE_ACCOUNT);
    for (const group of [...this.groups.values(), this.fallbackLogGroup]) group.grantWrite(this.serviceAccount);

    const chart = props.chart ?? EksHelmChartVersion.AWS_FOR_FLUENT_BIT;
    this.chart = new eks.HelmChart(this, 'Resource', {
      cluster: props.cluster,
      chart: chart.chart,
      repository: chart.repository,
      version: chart.version,
      release: 'aws-for-fluent-bit',
      namespace: 'kube-system',
      values: deepMerge({
        serviceAccount: { create: false, name: SERVICE_ACCOUNT },
        // Tail only the listed namespaces (file names are <pod>_<namespace>_<container>-<id>.log),
        // so every record has a log group to go to; Fluent Bit's tail accepts comma-separated paths.
        input: { path: props.namespaces.map((ns) => `/var/log/containers/*_${ns}_*.log`).join(',') },
        cloudWatchLogs: {
          enabled: true,
          region: stack.region,
          logGroupName: this.fallbackLogGroup.logGroupName,
          logGroupTemplate: `${prefix}$kubernetes['namespace_name']`,
          logStreamPrefix: 'fluentbit-',
          logStreamTemplate: "$kubernetes['pod_name'].$kubernetes['container_name']",
          // The groups exist (with retention and KMS); the role may not create others.
          autoCreateGroup: false,
        },
      }, props.values),
    });
    this.chart.node.addDependency(this.serviceAccount);
  }

  /** The log group that receives a namespace's container logs. */
  public logGroup(namespaceName: string): logs.ILogGroup {
    const group = this.groups.get(namespaceName);
    if (!group) invalidProp(this, 'namespaceName', namespaceName, 'is not one of the logged namespaces', `Use one of ${[...this.groups.keys()].join(', ')}.`);
    return group;
  }

  private newKey(): kms.Key {
    const key = newKey(this, 'Key', {
      description: 'Encrypts EKS container log groups',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    allowLogsToUse(key);
    return key;
  }
}
