import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { EksPlatform } from '../../../lib';
import { ContainerLogging, ExternalDns, IngressScheme, LoadBalancerController, NetworkPolicies, NetworkPolicyEngine } from '../../../lib/eks/addons';
import { nagFindings } from '../../support/app';
import { cfnLintFindings } from '../../support/cfn-lint';
import { addonStack, manifestObjects, testCluster } from './test-cluster';

describe('every add-on on one aws-eks-v2 cluster', () => {
  let stack: Stack;

  beforeAll(() => {
    // GIVEN a cluster built directly with aws-eks-v2 (standing in for EksPlatform)
    stack = addonStack();
    const cluster = testCluster(stack);
    const zone = new route53.PublicHostedZone(stack, 'Zone', { zoneName: 'example.com' });
    const certificate = new acm.Certificate(stack, 'Certificate', { domainName: 'shop.example.com', validation: acm.CertificateValidation.fromDns(zone) });

    // WHEN
    const policies = new NetworkPolicies(stack, 'NetworkPolicies', { cluster, namespaces: ['shop', 'web'], engine: NetworkPolicyEngine.CALICO });
    policies.allow({ fromNamespace: 'web', fromService: 'frontend', toNamespace: 'shop', toService: 'api', ports: [8080] });
    policies.allowFromCidr('alb', { cidr: cluster.vpc.vpcCidrBlock, toNamespace: 'web', toService: 'frontend', ports: [3000] });
    const ingress = new LoadBalancerController(stack, 'LoadBalancerController', { cluster });
    ingress.addIngress('Shop', {
      namespaceName: 'web', scheme: IngressScheme.INTERNET_FACING, certificate,
      routes: [{ host: 'shop.example.com', serviceName: 'frontend', servicePort: 80 }],
    });
    new ExternalDns(stack, 'ExternalDns', { cluster, hostedZones: [zone] });
    new ContainerLogging(stack, 'ContainerLogging', { cluster, namespaces: ['shop', 'web'] });
    EksPlatform.acknowledgeStackProviders(stack);
  });

  test('namespaces shared by policies and ingress are created once', () => {
    const namespaces = manifestObjects(Template.fromStack(stack)).filter((o) => o.kind === 'Namespace').map((o) => o.metadata.name);
    expect(namespaces.sort()).toEqual(['shop', 'web']);
  });

  test('has no unacknowledged cdk-nag AwsSolutions findings', () => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('passes cfn-lint', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });
});
