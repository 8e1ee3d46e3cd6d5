import { RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { CapacityCluster, ControlTower, EksPlatform, StackLogKey, WebService } from '../../lib';

/** The shared private DNS namespace. */
export const DISCOVERY_DOMAIN = 'apps.internal';
/** The EKS side: a catalog API, published by ExternalDNS as `catalog.apps.internal` (A records of its pods). */
export const CATALOG = { name: 'catalog', port: 8080, host: `catalog.${DISCOVERY_DOMAIN}` };
/** The ECS side: an orders web service, registered by ECS as `orders.apps.internal` (SRV records). */
export const ORDERS = { name: 'orders', port: 8080, host: `orders.${DISCOVERY_DOMAIN}` };
/**
 * Subnets of the ECS container instances only. EKS nodes (and with the VPC CNI, their pods) live in
 * the VPC's `Private` subnets, so a NetworkPolicy ipBlock of this range admits the ECS hosts and no pod.
 */
export const ECS_SUBNET_CIDRS = ['10.0.2.0/24', '10.0.3.0/24'];
const ECS_SUBNETS_RANGE = '10.0.2.0/23';
/** Bridge-mode tasks get a host port from the ECS agent's dynamic range; SRV records carry it. */
const ECS_DYNAMIC_PORTS = { from: 32768, to: 65535 };

/**
 * One private DNS namespace serving both platforms: an ECS service registered by ECS and an EKS
 * Service published by ExternalDNS (aws-sd provider). Each caller finds the other by a plain
 * DNS query to the VPC resolver, and the security groups and NetworkPolicies let exactly these two
 * callers reach each other: orders (ECS) → catalog (EKS) on 8080, catalog → orders on the hosts'
 * dynamic ports.
 */
export class CrossPlatformDiscoveryStack extends Stack {
  public readonly discovery: servicediscovery.PrivateDnsNamespace;
  public readonly platform: EksPlatform;
  public readonly capacity: CapacityCluster;
  public readonly orders: WebService;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    const nat = ec2.NatProvider.gateway();
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.0.0.0/16'),
      maxAzs: 2,
      natGateways: 1,
      natGatewayProvider: nat,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
        // Reserved: 10.0.2.0/23, the ECS subnets below; kept out of the VPC's selectable subnets so EKS never uses them.
        { name: 'Ecs', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 24, reserved: true },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
      ],
      flowLogs: { FlowLog: { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', { retention: logs.RetentionDays.ONE_YEAR, encryptionKey: StackLogKey.of(this) })) } },
    });
    ControlTower.acknowledgeVpcDefaultSecurityGroupLockdown(this);
    const ecsSubnets = ECS_SUBNET_CIDRS.map((cidrBlock, i) => {
      const subnet = new ec2.PrivateSubnet(this, `EcsSubnet${i + 1}`, { vpcId: vpc.vpcId, availabilityZone: vpc.availabilityZones[i], cidrBlock });
      subnet.addDefaultNatRoute(nat.configuredGateways[0].gatewayId);
      return subnet;
    });

    // DNS names outlive stacks that register in them: keep the namespace (and its hosted zone) on delete.
    this.discovery = new servicediscovery.PrivateDnsNamespace(this, 'Discovery', { name: DISCOVERY_DOMAIN, vpc });
    this.discovery.applyRemovalPolicy(RemovalPolicy.RETAIN);

    // EKS: ExternalDNS publishes Services of the catalog namespace into the shared namespace.
    this.platform = new EksPlatform(this, 'Platform', {
      vpc,
      adminRole: new iam.Role(this, 'PlatformAdmins', { assumedBy: new iam.AccountRootPrincipal(), description: 'Platform team: cluster admin' }),
      bootstrapClusterCreatorAdmin: false,
      systemNodeGroup: { minSize: 2, maxSize: 3 },
      namespaces: [CATALOG.name],
      externalDns: { cloudMapNamespace: this.discovery },
    });
    const catalogLabels = { 'app.kubernetes.io/name': CATALOG.name };
    const catalog = this.platform.cluster.addManifest('Catalog', {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: CATALOG.name, namespace: CATALOG.name },
      spec: {
        replicas: 2,
        selector: { matchLabels: catalogLabels },
        template: {
          metadata: { labels: catalogLabels },
          spec: {
            securityContext: { runAsNonRoot: true, runAsUser: 1000 },
            containers: [{
              name: 'api', image: 'public.ecr.aws/docker/library/python:3.12-slim',
              command: ['python', '-m', 'http.server', String(CATALOG.port)],
              ports: [{ containerPort: CATALOG.port }],
              resources: { requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '256Mi' } },
            }],
          },
        },
      },
    }, {
      // Headless: ExternalDNS publishes the ready pods' IPs (VPC addresses with the VPC CNI) as A records.
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: CATALOG.name, namespace: CATALOG.name, annotations: { 'external-dns.alpha.kubernetes.io/hostname': CATALOG.host } },
      spec: { clusterIP: 'None', selector: catalogLabels, ports: [{ name: 'http', port: CATALOG.port, targetPort: CATALOG.port }] },
    });
    catalog.node.addDependency(this.platform.networkPolicies);

    // ECS: the orders service registers its tasks in the same namespace (SRV: host IP + dynamic port).
    this.capacity = new CapacityCluster(this, 'Capacity', {
      vpc,
      vpcSubnets: { subnets: ecsSubnets },
      minCapacity: 2,
      maxCapacity: 4,
      // Same size as the default m6i.large: tasks fit alike when that type is short.
      additionalInstanceTypes: [new ec2.InstanceType('m6a.large'), new ec2.InstanceType('m7i.large')],
    });
    this.orders = new WebService(this, 'Orders', {
      cluster: this.capacity.cluster,
      capacityProviderStrategies: this.capacity.onDemandStrategy,
      image: ecs.ContainerImage.fromRegistry('public.ecr.aws/docker/library/ruby:3.3-slim'),
      logTag: 'rails',
      healthCheckPath: '/health',
      containerPort: ORDERS.port,
      publicLoadBalancer: false,
      // The placeholder image writes nothing outside /tmp.
      readonlyRootFilesystem: true,
      cloudMap: { cloudMapNamespace: this.discovery, name: ORDERS.name },
    });

    // The two callers, and nothing else. AWS side: with the VPC CNI, pods use the nodes' cluster
    // security group; bridge-mode tasks use their instances' security group.
    const eksPods = new ec2.Connections({ securityGroups: [this.platform.cluster.clusterSecurityGroup] });
    eksPods.allowFrom(this.orders, ec2.Port.tcp(CATALOG.port), 'orders (ECS) calls catalog (EKS)');
    this.orders.connections.allowFrom(eksPods, ec2.Port.tcpRange(ECS_DYNAMIC_PORTS.from, ECS_DYNAMIC_PORTS.to), 'catalog (EKS) calls orders (ECS) on the tasks\' dynamic host ports');
    // Kubernetes side: the catalog namespace is default-deny; admit the ECS hosts, and let catalog call them.
    this.platform.networkPolicies.allowFromCidr('ecs-orders', { cidr: ECS_SUBNETS_RANGE, toNamespace: CATALOG.name, toService: CATALOG.name, ports: [CATALOG.port] });
    const egress = this.platform.cluster.addManifest('CatalogToOrders', {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'allow-to-ecs-orders', namespace: CATALOG.name },
      spec: {
        podSelector: { matchLabels: catalogLabels },
        policyTypes: ['Egress'],
        egress: [{ to: [{ ipBlock: { cidr: ECS_SUBNETS_RANGE } }], ports: [{ protocol: 'TCP', port: ECS_DYNAMIC_PORTS.from, endPort: ECS_DYNAMIC_PORTS.to }] }],
      },
    });
    egress.node.addDependency(this.platform.networkPolicies);
    // Stack-wide providers aws-cdk-lib adds (VPC default security group lock-down) are acknowledged once, here.
    EksPlatform.acknowledgeStackProviders(this);
  }
}
