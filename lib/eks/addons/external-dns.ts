import { Stack, Token, Validations } from 'aws-cdk-lib';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { deepMerge } from './private/merge';
import { addonServiceAccount } from './private/service-account';
import { EksPodIdentityServiceAccount } from '../pod-identity';
import { invalidProp } from '../../private/validation';
import { EksHelmChartVersion } from '../versions';

/** What ExternalDNS may do to records it owns. */
export enum ExternalDnsPolicy {
  /** Create and update records, never delete them (safest: a bad deploy cannot wipe DNS). */
  UPSERT_ONLY = 'upsert-only',
  /** Create, update and delete records so DNS mirrors the cluster exactly. */
  SYNC = 'sync',
  /** Create records only. */
  CREATE_ONLY = 'create-only',
}

/** ExternalDNS publishing to Route 53 zones or a Cloud Map namespace: what {@link EksPlatform} takes as `externalDns`. */
export interface EksExternalDnsOptions {
  /**
   * Route 53 hosted zones ExternalDNS may change (Route 53 provider). Give either this or
   * `cloudMapNamespace`.
   *
   * @default - none: `cloudMapNamespace` must be given
   */
  readonly hostedZones?: route53.IHostedZone[];
  /**
   * A Cloud Map namespace to register Services and Ingresses in (the `aws-sd` provider), so ECS
   * and EKS services share one discovery namespace. Give either this or `hostedZones`.
   *
   * @default - none: `hostedZones` must be given
   */
  readonly cloudMapNamespace?: servicediscovery.INamespace;
  /**
   * What ExternalDNS may do to the records it owns.
   *
   * @default ExternalDnsPolicy.UPSERT_ONLY
   */
  readonly policy?: ExternalDnsPolicy;
}

/** Props of {@link ExternalDns}. */
export interface ExternalDnsProps extends EksExternalDnsOptions {
  /** The cluster ExternalDNS watches. */
  readonly cluster: eks.ICluster;
  /**
   * Domains ExternalDNS may publish names in (`--domain-filter`); names outside them are ignored.
   * `EksPlatform` passes its teams' domains here.
   *
   * @default - the hosted zones' names, or the Cloud Map namespace name
   */
  readonly domainFilters?: string[];
  /**
   * Owner id written to the TXT registry records (or Cloud Map service descriptions), so several
   * clusters can share a zone without touching each other's records.
   *
   * @default - the cluster name
   */
  readonly txtOwnerId?: string;
  /**
   * The Helm chart.
   *
   * @default EksHelmChartVersion.EXTERNAL_DNS
   */
  readonly chart?: EksHelmChartVersion;
  /**
   * Extra chart values, deep-merged over the computed ones; yours win.
   *
   * @default - none
   */
  readonly values?: { [key: string]: unknown };
}

const SERVICE_ACCOUNT = 'external-dns';

/**
 * ExternalDNS (pinned Helm chart) publishing Kubernetes Services and Ingresses either to the given
 * Route 53 hosted zones, with record changes allowed on those zones only, or to a Cloud Map
 * namespace shared with ECS services.
 */
export class ExternalDns extends Construct {
  /**
   * Tag ExternalDNS puts on the Cloud Map services it creates (value: the owner id); its IAM
   * policy allows changes to services with this tag only.
   */
  public static readonly CLOUD_MAP_OWNER_TAG = 'external-dns-owner';

  /** The service account; its role carries the DNS permissions. */
  public readonly serviceAccount: EksPodIdentityServiceAccount;
  /** The ExternalDNS chart. */
  public readonly chart: eks.HelmChart;

  constructor(scope: Construct, id: string, props: ExternalDnsProps) {
    super(scope, id);
    const zones = props.hostedZones;
    if (zones !== undefined && props.cloudMapNamespace !== undefined) {
      invalidProp(this, 'hostedZones', `${zones.length} zone(s)`, 'and cloudMapNamespace are both given, but ExternalDNS runs one provider',
        'Give hostedZones for Route 53, or cloudMapNamespace for Cloud Map.');
    }
    if (zones === undefined && props.cloudMapNamespace === undefined) {
      invalidProp(this, 'hostedZones', undefined, 'and cloudMapNamespace are both missing', 'Give the Route 53 hosted zones ExternalDNS may change, or a Cloud Map namespace.');
    }
    if (zones !== undefined && zones.length === 0) {
      invalidProp(this, 'hostedZones', [], 'is empty, so ExternalDNS could not change any zone', 'List at least one hosted zone.');
    }
    if (props.txtOwnerId !== undefined && !Token.isUnresolved(props.txtOwnerId) && !/^[A-Za-z0-9][-A-Za-z0-9_.]{0,99}$/.test(props.txtOwnerId)) {
      invalidProp(this, 'txtOwnerId', props.txtOwnerId, 'must be 1-100 letters, digits, \'-\', \'_\' or \'.\'', 'Use the cluster name or a short identifier.');
    }

    const chart = props.chart ?? EksHelmChartVersion.EXTERNAL_DNS;
    const stack = Stack.of(this);
    this.serviceAccount = addonServiceAccount(this, props.cluster, SERVICE_ACCOUNT);

    const ownerId = props.txtOwnerId ?? props.cluster.clusterName;
    let providerValues: { [key: string]: unknown };
    if (zones !== undefined) {
      this.grantRoute53(zones);
      providerValues = {
        provider: { name: 'aws' },
        domainFilters: props.domainFilters ?? zones.map((z) => z.zoneName),
        extraArgs: zones.map((z) => `--zone-id-filter=${z.hostedZoneId}`),
      };
    } else {
      const ns = props.cloudMapNamespace!;
      this.grantCloudMap(ns, ownerId);
      providerValues = {
        provider: { name: 'aws-sd' },
        // external-dns 0.19 switches any registry but aws-sd/noop to aws-sd for this provider
        // (controller/execute.go): ownership lives in each Cloud Map service's Description, no TXT records.
        registry: 'aws-sd',
        domainFilters: [ns.namespaceName],
        extraArgs: [
          `--aws-zone-type=${ns.type === servicediscovery.NamespaceType.DNS_PUBLIC ? 'public' : 'private'}`,
          // Tags the services it creates, so that IAM lets it change those services only.
          `--aws-sd-create-tag=${ExternalDns.CLOUD_MAP_OWNER_TAG}=${ownerId}`,
        ],
      };
    }

    this.chart = new eks.HelmChart(this, 'Resource', {
      cluster: props.cluster,
      chart: chart.chart,
      repository: chart.repository,
      version: chart.version,
      release: 'external-dns',
      namespace: 'kube-system',
      values: deepMerge({
        registry: 'txt',
        ...providerValues,
        policy: props.policy ?? ExternalDnsPolicy.UPSERT_ONLY,
        txtOwnerId: ownerId,
        sources: ['service', 'ingress'],
        serviceAccount: { create: false, name: SERVICE_ACCOUNT },
        env: [{ name: 'AWS_DEFAULT_REGION', value: stack.region }],
      }, props.values),
    });
    this.chart.node.addDependency(this.serviceAccount);
  }

  private grantRoute53(zones: route53.IHostedZone[]): void {
    // Record and tag reads accept a hosted zone ARN too; ExternalDNS only reads the zones its
    // --zone-id-filter lets through, which are these.
    this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets', 'route53:ListTagsForResources'],
      resources: zones.map((z) => z.hostedZoneArn),
    }));
    this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['route53:ListHostedZones'],
      resources: ['*'],
    }));
    this.acknowledgeWildcard('Resource::*',
      'ExternalDNS lists the hosted zones to find the ones it owns; route53:ListHostedZones has no resource-level permissions. '
      + 'Record reads and changes are limited to the given hosted zones.');
  }

  /**
   * What the aws-sd provider of external-dns 0.19 calls (provider/awssd/aws_sd.go): ListNamespaces,
   * ListServices, DiscoverInstances, CreateService, UpdateService, DeleteService, RegisterInstance,
   * DeregisterInstance. Cloud Map service ids are generated at run time, so services are scoped by
   * the owner tag ExternalDNS puts on the services it creates (the ABAC policy of the external-dns
   * aws-sd tutorial) and creation by the namespace.
   */
  private grantCloudMap(ns: servicediscovery.INamespace, ownerId: string): void {
    const stack = Stack.of(this);
    const services = stack.formatArn({ service: 'servicediscovery', resource: 'service', resourceName: '*' });
    const ownerTag = ExternalDns.CLOUD_MAP_OWNER_TAG;
    this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['servicediscovery:CreateService'],
      resources: [ns.namespaceArn, services],
      conditions: { StringEquals: { 'servicediscovery:NamespaceArn': ns.namespaceArn, [`aws:RequestTag/${ownerTag}`]: ownerId } },
    }));
    this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
      // Tag-on-create of CreateService needs TagResource; only the owner tag, with this owner's value.
      actions: ['servicediscovery:TagResource'],
      resources: [services],
      conditions: { 'StringEquals': { [`aws:RequestTag/${ownerTag}`]: ownerId }, 'ForAllValues:StringEquals': { 'aws:TagKeys': [ownerTag] } },
    }));
    this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['servicediscovery:UpdateService', 'servicediscovery:DeleteService', 'servicediscovery:RegisterInstance', 'servicediscovery:DeregisterInstance'],
      resources: [services],
      conditions: { StringEquals: { [`aws:ResourceTag/${ownerTag}`]: ownerId } },
    }));
    this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
      // Reads every service of the namespace, ECS-registered ones included, to see who owns which name.
      actions: ['servicediscovery:DiscoverInstances'],
      resources: ['*'],
      conditions: { StringEquals: { 'servicediscovery:NamespaceName': ns.namespaceName } },
    }));
    this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
      actions: ['servicediscovery:ListNamespaces', 'servicediscovery:ListServices'],
      resources: ['*'],
    }));
    this.acknowledgeWildcard('Resource::*',
      'Cloud Map ListNamespaces and ListServices, and Route 53 ListHostedZonesByName, have no resource-level permissions; DiscoverInstances has none either and is limited to the namespace by its NamespaceName condition.');
    this.acknowledgeWildcard(`Resource::arn:<AWS::Partition>:servicediscovery:<AWS::Region>:<AWS::AccountId>:service/*`,
      'Cloud Map service ids are generated when ExternalDNS creates the services at run time; changes are limited to services carrying its owner tag, creation to the given namespace.');
    if (ns.type !== servicediscovery.NamespaceType.HTTP) {
      // Cloud Map writes the DNS records with the caller's permissions; the record names are limited to the namespace.
      this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['route53:ChangeResourceRecordSets'],
        resources: [stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: '*' })],
        conditions: { 'ForAllValues:StringLike': { 'route53:ChangeResourceRecordSetsNormalizedRecordNames': [`*.${ns.namespaceName}`] } },
      }));
      this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['route53:GetHostedZone'],
        resources: [stack.formatArn({ service: 'route53', region: '', account: '', resource: 'hostedzone', resourceName: '*' })],
      }));
      this.serviceAccount.addToPrincipalPolicy(new iam.PolicyStatement({
        actions: ['route53:ListHostedZonesByName'],
        resources: ['*'],
      }));
      this.acknowledgeWildcard('Resource::arn:<AWS::Partition>:route53:::hostedzone/*',
        'The Cloud Map namespace does not expose its hosted zone id; the condition limits record changes to names inside the namespace.');
    }
  }

  private acknowledgeWildcard(finding: string, reason: string): void {
    const policy = this.serviceAccount.role.node.tryFindChild('DefaultPolicy') ?? this.serviceAccount.role;
    Validations.of(policy).acknowledge({ id: `AwsSolutions-IAM5[${finding}]`, reason });
  }
}
