import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { PullRequestIngress, PullRequestIngressProps } from '../../lib';
import { nagFindings, testStack } from '../support/app';

function build(overrides: Partial<PullRequestIngressProps> = {}, withStack?: (stack: Stack) => Partial<PullRequestIngressProps>) {
  const stack = testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const ingress = new PullRequestIngress(stack, 'Preview', { vpc, domainName: 'preview.example.com', ...overrides, ...withStack?.(stack) });
  return { stack, ingress, template: Template.fromStack(stack) };
}

const certificate = (stack: Stack) => ({ certificate: acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc') });
const zone = (zoneName: string) => (stack: Stack) => ({ hostedZone: route53.HostedZone.fromHostedZoneAttributes(stack, 'Zone', { hostedZoneId: 'Z123', zoneName }) });

describe('PullRequestIngress', () => {
  test('without a certificate: one HTTP listener on 80 answering unknown hosts with 404, access logs on', () => {
    const { template, ingress } = build();
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::Listener', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, Protocol: 'HTTP', DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', {
      Scheme: 'internet-facing',
      LoadBalancerAttributes: Match.arrayWith([{ Key: 'access_logs.s3.enabled', Value: 'true' }, { Key: 'access_logs.s3.prefix', Value: 'pull-requests' }]),
    });
    template.hasResource('AWS::S3::Bucket', { DeletionPolicy: 'Retain' });
    expect(ingress.ingressFor('web')).toMatchObject({ module: 'web', domainName: 'preview.example.com', protocol: elbv2.ApplicationProtocol.HTTP });
  });

  test('with a certificate: HTTPS on 443 and a redirect from 80, on the same listener construct id', () => {
    const { template, ingress } = build({}, certificate);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS', SslPolicy: Match.stringLikeRegexp('TLS') });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443', Protocol: 'HTTPS' }) })],
    });
    // Adding a certificate later updates this listener in place: its logical id does not change.
    expect(Object.keys(template.findResources('AWS::ElasticLoadBalancingV2::Listener', { Properties: { Port: 443 } }))).toEqual(
      Object.keys(build().template.findResources('AWS::ElasticLoadBalancingV2::Listener')));
    expect(ingress.ingressFor('web').protocol).toBe(elbv2.ApplicationProtocol.HTTPS);
  });

  test('with a hosted zone: one wildcard alias record routes every pull request host', () => {
    const { template } = build({}, zone('example.com'));
    template.resourceCountIs('AWS::Route53::RecordSet', 1);
    template.hasResourceProperties('AWS::Route53::RecordSet', { Name: '*.preview.example.com.', Type: 'A', AliasTarget: Match.anyValue() });
  });

  test('an internal load balancer takes its ports from the VPC only', () => {
    const { template } = build({ internetFacing: false });
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::LoadBalancer', { Scheme: 'internal' });
    const ingress = Object.values(template.findResources('AWS::EC2::SecurityGroup')).flatMap((r) => r.Properties.SecurityGroupIngress ?? []);
    expect(ingress.map((r: { CidrIp?: unknown }) => r.CidrIp)).not.toContain('0.0.0.0/0');
  });

  test('cdk-nag finds nothing in the load balancer', () => {
    const { ingress } = build({}, certificate);
    expect(nagFindings(ingress)).toEqual([]);
  });

  test('fails when domainName is a wildcard, not a host name, or outside the hosted zone', () => {
    expect(() => build({ domainName: '*.preview.example.com' })).toThrow(/domainName \("\*\.preview\.example\.com"\) is a wildcard\. Give the parent domain itself, e\.g\. "preview\.example\.com"/);
    expect(() => build({ domainName: 'preview example' })).toThrow(/domainName \("preview example"\) is not a valid host name/);
    expect(() => build({}, zone('example.org'))).toThrow(/domainName \("preview\.example\.com"\) is not inside the hosted zone example\.org/);
  });
});
