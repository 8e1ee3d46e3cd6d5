import { Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { Construct } from 'constructs';
import { EksAccessLevel, EksPlatform, IngressScheme } from '../../lib';

/**
 * The first talk's platform for one team: a private EKS cluster with on-demand system nodes and
 * a Spot group, IAM roles mapped to RBAC (platform admins, the shop team's developers in their
 * namespace, read-only auditors), a default-deny `shop` namespace, one internet-facing ALB
 * Ingress with HTTPS, its DNS name published by ExternalDNS, and the team's container logs in
 * CloudWatch Logs.
 */
export class EksPlatformStack extends Stack {
  public readonly platform: EksPlatform;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    // Stand-ins for the roles your identity provider (IAM Identity Center, SAML) hands out.
    const assumedBy = new iam.AccountRootPrincipal();
    const platformAdmins = new iam.Role(this, 'PlatformAdmins', { assumedBy, description: 'Platform team: cluster admin' });
    const shopDevelopers = new iam.Role(this, 'ShopDevelopers', { assumedBy, description: 'Shop team: edit in the shop namespace' });
    const auditors = new iam.Role(this, 'Auditors', { assumedBy, description: 'Auditors: read-only' });

    const zone = new route53.PublicHostedZone(this, 'Zone', { zoneName: 'shop.example.com' });
    const certificate = new acm.Certificate(this, 'Certificate', {
      domainName: 'shop.example.com',
      validation: acm.CertificateValidation.fromDns(zone),
    });

    this.platform = new EksPlatform(this, 'Platform', {
      adminRole: platformAdmins,
      vpcCni: { prefixDelegation: true, warmPrefixTarget: 1 },
      namespaces: ['shop'],
      // The shop team owns its namespace and its domain; the cluster refuses anything else.
      teams: [{ name: 'shop', namespaces: ['shop'], domains: ['shop.example.com'] }],
      externalDns: { hostedZones: [zone] },
      containerLogging: {},
    });
    this.platform.addNodeGroup('ShopSpot', { capacityType: eks.CapacityType.SPOT, minSize: 1, maxSize: 6, labels: { team: 'shop' } });
    this.platform.addAccess('ShopDevelopers', { role: shopDevelopers, level: EksAccessLevel.NAMESPACE_DEVELOPER, namespaces: ['shop'] });
    this.platform.addAccess('Auditors', { role: auditors, level: EksAccessLevel.READ_ONLY });

    // The storefront (web) calls the cart API inside the namespace; the ALB reaches web only.
    this.platform.addIngress('Shop', {
      namespaceName: 'shop',
      scheme: IngressScheme.INTERNET_FACING,
      certificate,
      routes: [
        { host: 'shop.example.com', path: '/api', serviceName: 'cart', servicePort: 80 },
        { host: 'shop.example.com', path: '/', serviceName: 'web', servicePort: 80 },
      ],
    });
    this.platform.allowFromVpc('alb-to-web', { toNamespace: 'shop', toService: 'web', ports: [8080], scheme: IngressScheme.INTERNET_FACING });
    this.platform.allowFromVpc('alb-to-cart', { toNamespace: 'shop', toService: 'cart', ports: [8080], scheme: IngressScheme.INTERNET_FACING });
    this.platform.allowTraffic({ fromNamespace: 'shop', fromService: 'web', toNamespace: 'shop', toService: 'cart', ports: [8080] });
    // Stack-wide providers aws-cdk-lib adds (VPC default security group lock-down, CfnJson) are acknowledged once, here.
    EksPlatform.acknowledgeStackProviders(this);
  }
}
