import { Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { addPanopticonExample, PanopticonStack } from '../../examples/panopticon/panopticon-stack';
import { nagFindings, testApp } from '../support/app';
import { cfnLintFindings } from '../support/cfn-lint';
import { maskAssetHashes } from '../support/snapshot';

describe('Panopticon example (dashboard + two pull-request environments)', () => {
  const { dashboard, pullRequests } = addPanopticonExample(testApp());
  const stacks: Stack[] = [dashboard, ...pullRequests];
  // Synthesize (and lint) before running cdk-nag over the trees.
  const templates = new Map(stacks.map((s) => [s.stackName, Template.fromStack(s)]));

  test.each(stacks.map((s) => [s.stackName, s] as const))('%s: cfn-lint finds nothing', (_name, stack) => {
    expect(cfnLintFindings(stack)).toEqual([]);
  });

  test.each(stacks.map((s) => [s.stackName, s] as const))('%s: cdk-nag finds nothing', (_name, stack) => {
    expect(nagFindings(stack)).toEqual([]);
  });

  test('the dashboard signs browser users in through Cognito with MFA', () => {
    const t = templates.get('Panopticon')!;
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', AuthorizationType: 'COGNITO_USER_POOLS' });
    t.hasResourceProperties('AWS::Cognito::UserPool', { MfaConfiguration: 'ON' });
  });

  test('each pull request deploys only its changed modules and tags them with its number', () => {
    const pr101 = templates.get('PanopticonPr101')!;
    const pr102 = templates.get('PanopticonPr102')!;
    expect(Object.values(pr101.findResources('AWS::ECS::Service')).map((s) => s.Properties.ServiceName).sort()).toEqual(['pr-101-api', 'pr-101-web']);
    expect(Object.values(pr102.findResources('AWS::ECS::Service')).map((s) => s.Properties.ServiceName).sort()).toEqual(['pr-102-api', 'pr-102-search']);
    pr102.hasResourceProperties('AWS::ECS::Service', { Tags: Match.arrayWith([{ Key: 'pr-number', Value: '102' }]) });
  });

  test('each pull request is published as pr-<n>.preview.example.com on the shared load balancer, and the dashboard links to it', () => {
    const shared = templates.get('Panopticon')!;
    shared.resourceCountIs('AWS::ElasticLoadBalancingV2::LoadBalancer', 1);
    shared.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, DefaultActions: [Match.objectLike({ Type: 'fixed-response', FixedResponseConfig: Match.objectLike({ StatusCode: '404' }) })],
    });
    // The rules and target groups live in the PR stacks: deleting one leaves the shared load balancer intact.
    shared.resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    shared.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 0);
    for (const [name, pr] of [['PanopticonPr101', 101], ['PanopticonPr102', 102]] as const) {
      const t = templates.get(name)!;
      t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
        Priority: pr, Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: [`pr-${pr}.preview.example.com`] } }],
      });
      t.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1);
      t.hasResourceProperties('AWS::ECS::Cluster', { Tags: Match.arrayWith([{ Key: 'pr-url', Value: `http://pr-${pr}.preview.example.com` }]) });
      t.resourceCountIs('AWS::EC2::VPC', 0);
    }
  });

  test('with a certificate the preview listener serves HTTPS on 443 and redirects HTTP to it', () => {
    const app = testApp();
    const certificate = new acm.Certificate(new Stack(app, 'Certificates'), 'Preview', { domainName: '*.preview.example.com', validation: acm.CertificateValidation.fromDns() });
    const withCertificate = new PanopticonStack(app, 'PanopticonHttps', { previewCertificate: certificate });
    const t = Template.fromStack(withCertificate);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', { Port: 443, Protocol: 'HTTPS', Certificates: [Match.anyValue()] });
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::Listener', {
      Port: 80, DefaultActions: [Match.objectLike({ Type: 'redirect', RedirectConfig: Match.objectLike({ Port: '443', Protocol: 'HTTPS' }) })],
    });
    expect(withCertificate.preview.ingressFor('web').protocol).toBe(elbv2.ApplicationProtocol.HTTPS);
    expect(nagFindings(withCertificate)).toEqual([]);
  });

  test('the dashboard protects its browser traffic: security headers, PKCE client, client-scoped authorizer', () => {
    const t = templates.get('Panopticon')!;
    t.resourceCountIs('AWS::CloudFront::ResponseHeadersPolicy', 1);
    t.hasResourceProperties('AWS::Cognito::UserPoolClient', { AllowedOAuthFlows: ['code'], GenerateSecret: false });
    t.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', AuthorizationScopes: [Match.stringLikeRegexp('^panopticon-[0-9a-f]{16}/read$')] });
  });

  test('the dashboard stack runs the scheduled pull-request clean-up', () => {
    const t = templates.get('Panopticon')!;
    t.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 hour)' });
    t.hasResourceProperties('AWS::IAM::Policy', { PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Action: 'cloudformation:DeleteStack' })]) } });
  });

  // Renaming the construct id of one of these replaces (and, for retained ones, orphans) it.
  test.each([
    ['Panopticon', 'AWS::Cognito::UserPool', 'Users0A0EEA89', 'Retain'],
    ['Panopticon', 'AWS::S3::Bucket', 'PanopticonSiteBucket7A8D4AA1', 'Retain'],
    ['Panopticon', 'AWS::S3::Bucket', 'PanopticonLogBucket6EA4A7DA', 'Retain'],
    ['Panopticon', 'AWS::Logs::LogGroup', 'PanopticonApiAccessLogsB44FB243', 'Retain'],
    ['PanopticonPr101', 'AWS::ServiceDiscovery::PrivateDnsNamespace', 'EnvironmentNamespace8BDDFE25', 'Delete'],
    ['PanopticonPr101', 'AWS::ECS::Cluster', 'EnvironmentClusterE81C7902', 'Delete'],
    ['PanopticonPr101', 'AWS::Logs::LogGroup', 'EnvironmentLogs030945BC', 'Delete'],
  ])('%s keeps the logical id of its %s %s (deletion policy %s): renaming it replaces the resource', (stackName, type, logicalId, policy) => {
    const resources = templates.get(stackName)!.findResources(type);
    expect(Object.keys(resources)).toContain(logicalId);
    expect(resources[logicalId].DeletionPolicy ?? 'Delete').toBe(policy);
  });

  // What survives deleting the dashboard stack, and why (issue 19): everything else is deleted.
  test('deleting the dashboard stack leaves exactly these resources behind', () => {
    const reasons: Record<string, string> = {
      Users0A0EEA89: 'the user pool: the people allowed in, with their MFA enrolment',
      PanopticonLogBucket6EA4A7DA: 'S3 server access and CloudFront logs: audit data',
      PanopticonSiteBucket7A8D4AA1: 'the page bucket (not emptied by CloudFormation; holds no data, delete by hand if wanted)',
      PanopticonApiAccessLogsB44FB243: 'API access logs: audit data',
      PanopticonHandlerLogGroup729C97E0: 'API function logs',
      PanopticonDeploymentLogs501D5552: 'page deployment logs',
      PullRequestCleanupHandlerLogGroup4D8C8548: 'the record of which PR environments the clean-up deleted',
      PanopticonApiAccountCED99F54: 'AWS::ApiGateway::Account is account-wide: other APIs may log through it',
      PanopticonApiCloudWatchRoleD5FE660B: 'the account-wide API Gateway logging role the Account setting points at',
      ContainerPatternsLogKeyBA7164E2: 'the key of the retained log groups: deleting it would make them unreadable',
    };
    const resources = templates.get('Panopticon')!.toJSON().Resources as Record<string, { DeletionPolicy?: string }>;
    const retained = Object.entries(resources).filter(([, r]) => r.DeletionPolicy === 'Retain').map(([id]) => id).sort();
    expect(retained).toEqual(Object.keys(reasons).sort());
  });

  test('a pull-request stack leaves nothing behind when deleted: no resource is retained', () => {
    for (const pr of pullRequests) {
      const retained = Object.entries(templates.get(pr.stackName)!.toJSON().Resources as Record<string, { DeletionPolicy?: string }>)
        .filter(([, r]) => r.DeletionPolicy === 'Retain' || r.DeletionPolicy === 'RetainExceptOnCreate').map(([id]) => id);
      expect(retained).toEqual([]);
    }
  });

  test.each(stacks.map((s) => [s.stackName] as const))('%s matches its snapshot (asset hashes masked)', (name) => {
    expect(maskAssetHashes(templates.get(name)!.toJSON())).toMatchSnapshot();
  });
});
