import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { ControlTower, EksAccessLevel, EksPlatform, IngressScheme, NetworkPolicyEngine, StackLogKey } from '../../lib';

/** One team per workload of the fourth talk (the clusters moved from GKE), each in its namespace. */
export interface TeamWorkload {
  /** Namespace, service name and team name in one. */
  readonly name: string;
  /** What the team runs, for the role description. */
  readonly description: string;
  /** Container port the service listens on. */
  readonly port: number;
  /** Host name of its ALB route; internal-only workloads have none. */
  readonly host?: string;
}

/** The fourth talk's workloads. */
export const TEAMS: TeamWorkload[] = [
  { name: 'ml-recommender', description: 'ML recommendation model serving', port: 8501 },
  { name: 'moderation', description: 'Moderation microservice', port: 8080 },
  { name: 'slack-bot', description: 'Slack bot', port: 3000, host: 'slack-bot.example.com' },
  { name: 'redash', description: 'Redash (BI dashboards)', port: 5000, host: 'redash.internal.example.com' },
  { name: 'spinnaker', description: 'Spinnaker (continuous delivery)', port: 9000, host: 'spinnaker.internal.example.com' },
];

/**
 * The fourth talk's GKE workloads on one EKS platform. Each workload is a default-deny namespace
 * with its own developer role; Calico enforces the policies (as on the GKE clusters they came
 * from); the Slack bot is public, Redash and Spinnaker sit behind one internal ALB, and the
 * recommender and moderation services are reachable only from the callers that need them.
 * ExternalDNS registers everything in a Cloud Map namespace that ECS services can share.
 */
export class EksMultiTeamStack extends Stack {
  public readonly platform: EksPlatform;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const assumedBy = new iam.AccountRootPrincipal();

    const vpc = new ec2.Vpc(this, 'Vpc', {
      maxAzs: 3,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
      flowLogs: { FlowLog: { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: StackLogKey.of(this) })) } },
    });
    ControlTower.acknowledgeVpcDefaultSecurityGroupLockdown(this);
    // ECS services in the same VPC register here too, so both platforms find each other by DNS.
    const discovery = new servicediscovery.PrivateDnsNamespace(this, 'Discovery', { name: 'apps.internal', vpc });
    // Shared by ECS and EKS services of other stacks: kept when this stack is deleted (docs/design.md).
    discovery.applyRemovalPolicy(RemovalPolicy.RETAIN);
    // Slack only calls HTTPS webhooks: the public route gets a certificate from the existing zone.
    const zone = route53.HostedZone.fromHostedZoneAttributes(this, 'Zone', { hostedZoneId: 'Z0123456789ABCDEFGHIJ', zoneName: 'example.com' });
    const slackCertificate = new acm.Certificate(this, 'SlackBotCertificate', {
      domainName: 'slack-bot.example.com',
      validation: acm.CertificateValidation.fromDns(zone),
    });

    this.platform = new EksPlatform(this, 'Platform', {
      vpc,
      adminRole: new iam.Role(this, 'PlatformAdmins', { assumedBy, description: 'Platform team: cluster admin' }),
      bootstrapClusterCreatorAdmin: false,
      systemNodeGroup: { minSize: 2, maxSize: 4 },
      namespaces: TEAMS.map((t) => t.name),
      // Who owns which names: the cluster refuses an Ingress or Service of one team for another's
      // host or ALB. Redash and Spinnaker belong to one internal-tools team and share its ALB.
      teams: [
        { name: 'ml-recommender', namespaces: ['ml-recommender'] },
        { name: 'moderation', namespaces: ['moderation'] },
        { name: 'slack-bot', namespaces: ['slack-bot'], domains: ['slack-bot.example.com'] },
        { name: 'internal-tools', namespaces: ['redash', 'spinnaker'], domains: ['internal.example.com'] },
      ],
      networkPolicyEngine: NetworkPolicyEngine.CALICO,
      externalDns: { cloudMapNamespace: discovery },
      containerLogging: {},
      // GKE's node auto-provisioning: Karpenter launches Spot (else On-Demand) nodes for pending pods.
      karpenter: { defaultNodePool: { cpuLimit: 64, memoryLimitGiB: 256 } },
    });
    // The recommender's model server wants steady compute; everything else tolerates Spot.
    this.platform.addNodeGroup('MlOnDemand', {
      instanceTypes: [new ec2.InstanceType('c6i.2xlarge')],
      minSize: 1, maxSize: 4,
      labels: { workload: 'ml' },
      taints: [{ key: 'workload', value: 'ml', effect: eks.TaintEffect.NO_SCHEDULE }],
    });
    this.platform.addNodeGroup('GeneralSpot', { capacityType: eks.CapacityType.SPOT, minSize: 2, maxSize: 12 });

    for (const team of TEAMS) {
      const role = new iam.Role(this, `${pascal(team.name)}Developers`, { assumedBy, description: `${team.description}: edit in ${team.name}` });
      this.platform.addAccess(`${pascal(team.name)}Developers`, { role, level: EksAccessLevel.NAMESPACE_DEVELOPER, namespaces: [team.name] });
    }
    this.platform.addAccess('Sre', {
      role: new iam.Role(this, 'Sre', { assumedBy, description: 'SRE: read-only everywhere' }),
      level: EksAccessLevel.READ_ONLY,
    });

    // Who calls whom: the Slack bot asks the recommender and the moderation service; Redash
    // queries the recommender's metrics endpoint; Spinnaker only deploys (through the API server).
    const port = (name: string) => TEAMS.find((t) => t.name === name)!.port;
    const call = (from: string, to: string) =>
      this.platform.allowTraffic({ fromNamespace: from, fromService: from, toNamespace: to, toService: to, ports: [port(to)] });
    call('slack-bot', 'ml-recommender');
    call('slack-bot', 'moderation');
    call('redash', 'ml-recommender');

    // The moderation service scales on New Relic's busy-worker ratio, read from the CloudWatch
    // metric the ECS stack's NewRelicMetricBridge already publishes (map "moderation" in its
    // services): ECS and EKS together still make one New Relic request per poll.
    this.platform.addNewRelicPodScaling('ModerationScaling', {
      namespaceName: 'moderation',
      deploymentName: 'moderation',
      metric: new cloudwatch.Metric({
        namespace: 'NewRelic', metricName: 'BusyWorkerRatio', dimensionsMap: { ServiceName: 'moderation' },
        period: Duration.minutes(1), statistic: cloudwatch.Stats.AVERAGE, unit: cloudwatch.Unit.PERCENT,
      }),
      targetValue: 60,
      minReplicas: 2,
      maxReplicas: 20,
    });

    // Routes: the Slack bot's webhook on a public ALB; Redash and Spinnaker on one internal ALB.
    for (const team of TEAMS.filter((t) => t.host)) {
      const isPublic = team.name === 'slack-bot';
      this.platform.addIngress(pascal(team.name), {
        namespaceName: team.name,
        scheme: isPublic ? IngressScheme.INTERNET_FACING : IngressScheme.INTERNAL,
        certificate: isPublic ? slackCertificate : undefined,
        routes: [{ host: team.host, serviceName: team.name, servicePort: 80 }],
      });
      this.platform.allowFromVpc(`alb-to-${team.name}`, {
        toNamespace: team.name, toService: team.name, ports: [team.port], scheme: isPublic ? IngressScheme.INTERNET_FACING : IngressScheme.INTERNAL,
      });
    }
    // Stack-wide providers aws-cdk-lib adds (VPC default security group lock-down, CfnJson) are acknowledged once, here.
    EksPlatform.acknowledgeStackProviders(this);
  }
}

function pascal(name: string): string {
  return name.split('-').map((p) => p[0].toUpperCase() + p.slice(1)).join('');
}
