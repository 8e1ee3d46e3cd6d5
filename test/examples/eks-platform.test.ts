import { Match, Template } from 'aws-cdk-lib/assertions';
import { EksPlatformStack } from '../../examples/eks-platform/eks-platform-stack';
import { EksV2Checks } from '../../lib';
import { nagFindings, testApp } from '../support/app';
import { maskAssetHashes } from '../support/snapshot';
import { cfnLintFindings } from '../support/cfn-lint';
import { manifestObjects } from '../support/k8s';
import { expectPodIdentityOnly } from '../eks/identity-assertions';

describe('EksPlatform example', () => {
  let stack: EksPlatformStack;
  let template: Template;
  beforeAll(() => {
    stack = new EksPlatformStack(testApp(), 'EksPlatform');
    template = Template.fromStack(stack);
  });

  test('runs a private cluster with an on-demand and a Spot node group', () => {
    template.hasResourceProperties('AWS::EKS::Cluster', { ResourcesVpcConfig: Match.objectLike({ EndpointPublicAccess: false }) });
    template.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'ON_DEMAND' });
    template.hasResourceProperties('AWS::EKS::Nodegroup', { CapacityType: 'SPOT', Labels: { team: 'shop' } });
  });

  test('maps the team roles to RBAC groups', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', { KubernetesGroups: ['platform:developers:shop'] });
    template.hasResourceProperties('AWS::EKS::AccessEntry', { KubernetesGroups: ['platform:read-only'] });
  });

  test('guards the shop namespace with default-deny and lets the ALB reach web and cart only', () => {
    const policies = manifestObjects(template).filter((o) => o.kind === 'NetworkPolicy' && o.metadata.namespace === 'shop');
    expect(policies.some((p) => p.spec.podSelector && Object.keys(p.spec.podSelector).length === 0 && p.spec.policyTypes.length === 2)).toBe(true);
    const fromVpc = policies.filter((p) => JSON.stringify(p).includes('ipBlock')).map((p) => p.spec.podSelector.matchLabels['app.kubernetes.io/name']).sort();
    expect(fromVpc).toEqual(['cart', 'web']);
  });

  test('routes one HTTPS Ingress by path to web and cart', () => {
    const ingress = manifestObjects(template).find((o) => o.kind === 'Ingress')!;
    expect(ingress.metadata.annotations).toMatchObject({
      'alb.ingress.kubernetes.io/scheme': 'internet-facing',
      'alb.ingress.kubernetes.io/target-type': 'ip',
      'alb.ingress.kubernetes.io/ssl-redirect': '443',
      'alb.ingress.kubernetes.io/certificate-arn': '{TOKEN}',
    });
    expect(ingress.spec.rules[0].http.paths.map((p: { path: string; backend: { service: { name: string } } }) => [p.path, p.backend.service.name]))
      .toEqual([['/api', 'cart'], ['/', 'web']]);
  });

  test('publishes DNS to its hosted zone only and ships shop logs to their own group', () => {
    const charts = Object.values(template.findResources('Custom::AWSCDK-EKS-HelmChart')).map((c) => c.Properties.Chart).sort();
    expect(charts).toEqual(['aws-for-fluent-bit', 'aws-load-balancer-controller', 'external-dns']);
    expect(JSON.stringify(template.findResources('AWS::IAM::Policy'))).not.toMatch(/"Action":"route53:\*"/);
    template.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([{
      Action: ['route53:ChangeResourceRecordSets', 'route53:ListResourceRecordSets', 'route53:ListTagsForResources'],
      Effect: 'Allow',
      Resource: Match.objectLike({ 'Fn::Join': Match.anyValue() }),
    }]) } });
    template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 365, KmsKeyId: Match.anyValue() });
  });

  test('turns on prefix delegation in the VPC CNI', () => {
    template.hasResourceProperties('AWS::EKS::Addon', { AddonName: 'vpc-cni', ConfigurationValues: Match.stringLikeRegexp('"ENABLE_PREFIX_DELEGATION":"true"') });
  });

  test('gives every add-on its AWS role through Pod Identity only: no IRSA annotation, no OIDC provider, at most 3 Lambdas', () => {
    const figures = expectPodIdentityOnly(stack, template);
    expect(figures.serviceAccounts).toEqual(['kube-system/aws-for-fluent-bit', 'kube-system/aws-load-balancer-controller', 'kube-system/external-dns']);
    expect(figures.lambdaFunctions).toBe(3);
  });

  test('passes cdk-nag AwsSolutions and EksV2Checks', () => {
    expect(nagFindings(stack)).toEqual([]);
    expect(nagFindings(stack, new EksV2Checks())).toEqual([]);
  });

  test('passes cfn-lint', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });

  test('matches the snapshot', () => {
    expect(maskAssetHashes(template.toJSON())).toMatchSnapshot();
  });
});
