import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import { CatalogModule, PullRequestEnvironment, PullRequestEnvironmentProps, PullRequestIngressOptions } from '../../lib';
import { testApp, testStack } from '../support/app';

const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable');
const catalog: CatalogModule[] = [
  { name: 'web', image, containerPort: 80 },
  { name: 'api', image },
  { name: 'search', image },
  { name: 'auth', image },
];

function build(overrides: Partial<PullRequestEnvironmentProps> = {}): { stack: Stack; env: PullRequestEnvironment } {
  const stack = testStack();
  const vpc = new ec2.Vpc(stack, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const env = new PullRequestEnvironment(stack, 'Pr', {
    pullRequestNumber: 42,
    vpc,
    catalog,
    deploy: ['web', 'api'],
    sharedEndpoints: { search: 'https://search.staging.example.com', auth: 'auth.staging.internal:8443' },
    ...overrides,
  });
  return { stack, env };
}

describe('PullRequestEnvironment', () => {
  let template: Template;
  let env: PullRequestEnvironment;

  beforeAll(() => {
    const built = build();
    env = built.env;
    template = Template.fromStack(built.stack);
  });

  test('deploys exactly the listed modules, on Fargate Spot', () => {
    template.resourceCountIs('AWS::ECS::Service', 2);
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'pr-42-web',
      CapacityProviderStrategy: [{ CapacityProvider: 'FARGATE_SPOT', Weight: 1 }],
      PropagateTags: 'SERVICE',
    });
    template.hasResourceProperties('AWS::ECS::ClusterCapacityProviderAssociations', { CapacityProviders: Match.arrayWith(['FARGATE_SPOT']) });
    expect(env.deployedModules).toEqual(['api', 'web']);
  });

  test('tags services and cluster with pr-number, environment and cleanup-after', () => {
    const tags = Match.arrayWith([
      { Key: 'cleanup-after', Value: 'P7D' },
      { Key: 'environment', Value: 'pr-42' },
      { Key: 'pr-number', Value: '42' },
    ]);
    template.hasResourceProperties('AWS::ECS::Service', { ServiceName: 'pr-42-api', Tags: tags });
    template.hasResourceProperties('AWS::ECS::Cluster', { Tags: tags });
  });

  test('tags the cluster with the deployed and shared modules and the URL the dashboard links to', () => {
    const { stack } = build({ url: 'https://pr-42.preview.example.com' });
    Template.fromStack(stack).hasResourceProperties('AWS::ECS::Cluster', {
      Tags: Match.arrayWith([
        { Key: 'pr-modules', Value: 'api web' },
        { Key: 'pr-shared-modules', Value: 'auth search' },
        { Key: 'pr-url', Value: 'https://pr-42.preview.example.com' },
      ]),
    });
  });

  test('fails when url is not an http(s) URL a tag can hold', () => {
    expect(() => build({ url: 'javascript:alert(1)' })).toThrow(/url \("javascript:alert\(1\)"\) must be an http\(s\) URL/);
  });

  test('the log group is destroyed with the environment (no retained leftovers)', () => {
    template.hasResource('AWS::Logs::LogGroup', { DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
  });

  test('points each module at deployed modules through Cloud Map and at shared ones through their endpoint', () => {
    expect(env.endpoints).toEqual({
      api: 'http://api.pr-42.internal:8080',
      auth: 'auth.staging.internal:8443',
      search: 'https://search.staging.example.com',
      web: 'http://web.pr-42.internal:80',
    });
    template.hasResourceProperties('AWS::ECS::TaskDefinition', {
      ContainerDefinitions: [Match.objectLike({
        Environment: Match.arrayWith([
          { Name: 'API_URL', Value: 'http://api.pr-42.internal:8080' },
          { Name: 'SEARCH_URL', Value: 'https://search.staging.example.com' },
        ]),
      })],
    });
    template.hasResourceProperties('AWS::ServiceDiscovery::PrivateDnsNamespace', { Name: 'pr-42.internal' });
  });

  test('modules reach each other and nothing else reaches them', () => {
    const ingress = template.findResources('AWS::EC2::SecurityGroupIngress');
    expect(Object.values(ingress).map((r) => r.Properties.CidrIp).filter((c) => c !== undefined)).toEqual([]);
    expect(Object.values(ingress).length).toBeGreaterThan(0);
  });

  test('cleanupAfter is written as an ISO 8601 duration', () => {
    const t = Template.fromStack(build({ cleanupAfter: Duration.days(2) }).stack);
    t.hasResourceProperties('AWS::ECS::Cluster', { Tags: Match.arrayWith([{ Key: 'cleanup-after', Value: 'P2D' }]) });
  });
});

describe('PullRequestEnvironment validation', () => {
  test('fails listing every module that is neither deployed nor shared', () => {
    expect(() => build({ deploy: ['web'], sharedEndpoints: {} })).toThrow(
      /catalog \(\["api", "auth", "search"\]\) has 3 module\(s\) that are neither deployed nor pointed at a shared endpoint/);
  });

  test('fails when a module named like an object property is neither deployed nor shared', () => {
    expect(() => build({ catalog: [...catalog, { name: 'constructor', image }] })).toThrow(
      /catalog \(\["constructor"\]\) has 1 module\(s\) that are neither deployed nor pointed at a shared endpoint/);
  });

  test('fails when the catalog is empty', () => {
    expect(() => build({ catalog: [], deploy: [], sharedEndpoints: {} })).toThrow(/catalog \(\[\]\) is empty/);
  });

  test('fails when a module is declared twice', () => {
    expect(() => build({ catalog: [...catalog, { name: 'api', image }] })).toThrow(/catalog\[\]\.name \(\["api"\]\) occurs more than once/);
  });

  test('fails when a shared endpoint is not a valid URL or host name', () => {
    expect(() => build({ sharedEndpoints: { search: 'https://exa mple.com', auth: 'not a host' } })).toThrow(
      /sharedEndpoints \(\{"auth":"not a host","search":"https:\/\/exa mple.com"\}\) has unusable endpoints: auth is neither a URL nor a host name; search is not a valid URL/);
  });

  test('fails when a shared endpoint is a loopback address nobody else can reach', () => {
    expect(() => build({ sharedEndpoints: { search: 'http://localhost:9200', auth: 'auth.staging.internal' } })).toThrow(
      /search points at the task itself \(loopback\)/);
  });

  test('fails when a shared endpoint uses a scheme other than http or https', () => {
    expect(() => build({ sharedEndpoints: { search: 'ftp://search.example.com', auth: 'auth.example.com' } })).toThrow(/search uses ftp: instead of http: or https:/);
  });

  test('fails when the pull request number is not a positive whole number', () => {
    expect(() => build({ pullRequestNumber: 0 })).toThrow(/pullRequestNumber \(0\) must be a whole number from 1/);
    expect(() => build({ pullRequestNumber: 4.5 })).toThrow(/pullRequestNumber \(4.5\) must be a whole number from 1/);
  });

  test('fails when a module is both deployed and shared', () => {
    expect(() => build({ sharedEndpoints: { web: 'https://web.example.com', search: 'search.example.com', auth: 'auth.example.com' } })).toThrow(
      /sharedEndpoints \(\["web"\]\) names modules that are also deployed/);
  });

  test('fails when deploy names a module missing from the catalog', () => {
    expect(() => build({ deploy: ['web', 'api', 'billing'] })).toThrow(/deploy \(\["billing"\]\) names modules that are not in the catalog/);
  });

  test('fails when a shared endpoint names a module missing from the catalog', () => {
    expect(() => build({ sharedEndpoints: { search: 'search.example.com', auth: 'auth.example.com', billing: 'billing.example.com' } })).toThrow(
      /sharedEndpoints \(\["billing"\]\) names modules that are not in the catalog/);
  });

  test('fails when a module name cannot be a DNS name', () => {
    expect(() => build({ catalog: [...catalog, { name: 'Bad_Name', image }] })).toThrow(/catalog\[\]\.name \(\["Bad_Name"\]\) must be lower-case letters/);
  });

  test('fails when cleanupAfter is longer than 90 days', () => {
    expect(() => build({ cleanupAfter: Duration.days(365) })).toThrow(/cleanupAfter \("365 days"\) exceeds 90 days/);
  });
});

/** A shared stack (VPC + ALB + listener) and one pull request's stack published on it, as two stacks of one app. */
type IngressOverrides = Partial<PullRequestIngressOptions> | ((prStack: Stack, loadBalancer: elbv2.ApplicationLoadBalancer) => Partial<PullRequestIngressOptions>);
function buildPublished(pullRequestNumber: number, ingress: IngressOverrides = {}, overrides: Partial<PullRequestEnvironmentProps> = {}) {
  const app = testApp();
  const env = { account: '123456789012', region: 'us-east-1' };
  const shared = new Stack(app, 'Shared', { env });
  const vpc = new ec2.Vpc(shared, 'Vpc', { maxAzs: 2, natGateways: 1 });
  const loadBalancer = new elbv2.ApplicationLoadBalancer(shared, 'Alb', { vpc, internetFacing: true });
  const listener = loadBalancer.addListener('Http', {
    port: 80,
    defaultAction: elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'no such preview' }),
  });
  const stack = new Stack(app, `Pr${pullRequestNumber}`, { env });
  const environment = new PullRequestEnvironment(stack, 'Pr', {
    pullRequestNumber,
    vpc,
    catalog,
    deploy: ['web', 'api'],
    sharedEndpoints: { search: 'https://search.staging.example.com', auth: 'auth.staging.internal:8443' },
    ingress: { listener, domainName: 'preview.example.com', module: 'web', ...(typeof ingress === 'function' ? ingress(stack, loadBalancer) : ingress) },
    ...overrides,
  });
  return { shared, stack, environment, loadBalancer };
}

function zone(scope: Stack, zoneName: string): route53.IHostedZone {
  return route53.HostedZone.fromHostedZoneAttributes(scope, 'Zone', { hostedZoneId: 'Z123', zoneName });
}

/** A value the PR stack reads from the shared stack (an output reference, not a copy). */
const fromShared = Match.objectLike({ 'Fn::GetStackOutput': Match.objectLike({ StackName: 'Shared' }) });

describe('PullRequestEnvironment published on a shared load balancer', () => {
  const { shared, stack, environment } = buildPublished(101);
  const template = Template.fromStack(stack);

  test('adds a host-header rule pr-<number>.<domain> with the PR number as priority, in the PR stack', () => {
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', {
      Priority: 101,
      Conditions: [{ Field: 'host-header', HostHeaderConfig: { Values: ['pr-101.preview.example.com'] } }],
      Actions: [Match.objectLike({ Type: 'forward' })],
      ListenerArn: fromShared,
    });
    // Deleting the PR stack removes the rule: nothing of it lives in the shared stack.
    Template.fromStack(shared).resourceCountIs('AWS::ElasticLoadBalancingV2::ListenerRule', 0);
    Template.fromStack(shared).resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 0);
  });

  test('routes to its own IP target group, to the published module\'s container port', () => {
    template.resourceCountIs('AWS::ElasticLoadBalancingV2::TargetGroup', 1);
    template.hasResourceProperties('AWS::ElasticLoadBalancingV2::TargetGroup', { TargetType: 'ip', Port: 80, Protocol: 'HTTP', HealthCheckPath: '/' });
    template.hasResourceProperties('AWS::ECS::Service', {
      ServiceName: 'pr-101-web',
      LoadBalancers: [{ ContainerName: 'app', ContainerPort: 80, TargetGroupArn: { Ref: Match.stringLikeRegexp('^PrIngressTargetGroup') } }],
    });
    const api = Object.values(template.findResources('AWS::ECS::Service')).find((r) => r.Properties.ServiceName === 'pr-101-api')!;
    expect(api.Properties.LoadBalancers ?? []).toEqual([]);
  });

  test('opens only the module port to the load balancer, with both security group rules in the PR stack', () => {
    template.hasResourceProperties('AWS::EC2::SecurityGroupIngress', {
      FromPort: 80, ToPort: 80, SourceSecurityGroupId: fromShared,
    });
    template.hasResourceProperties('AWS::EC2::SecurityGroupEgress', { FromPort: 80, ToPort: 80, GroupId: fromShared });
    Template.fromStack(shared).resourceCountIs('AWS::EC2::SecurityGroupEgress', 0);
  });

  test('sets the URL tag the dashboard links to from the host', () => {
    expect(environment.url).toBe('https://pr-101.preview.example.com');
    template.hasResourceProperties('AWS::ECS::Cluster', { Tags: Match.arrayWith([{ Key: 'pr-url', Value: 'https://pr-101.preview.example.com' }]) });
  });

  test('an explicit url wins over the host, and protocol HTTP gives an http URL', () => {
    expect(buildPublished(7, {}, { url: 'https://cdn.example.com/pr-7' }).environment.url).toBe('https://cdn.example.com/pr-7');
    expect(buildPublished(7, { protocol: elbv2.ApplicationProtocol.HTTP }).environment.url).toBe('http://pr-7.preview.example.com');
  });

  test('priorityOffset slides the priority window', () => {
    const t = Template.fromStack(buildPublished(60123, { priorityOffset: -50000 }).stack);
    t.hasResourceProperties('AWS::ElasticLoadBalancingV2::ListenerRule', { Priority: 10123 });
  });

  test('adds an alias record in the hosted zone when one is given', () => {
    const withZone = buildPublished(5, (prStack, loadBalancer) => ({ hostedZone: zone(prStack, 'example.com'), loadBalancer }));
    Template.fromStack(withZone.stack).hasResourceProperties('AWS::Route53::RecordSet', {
      Name: 'pr-5.preview.example.com.', Type: 'A', HostedZoneId: 'Z123', AliasTarget: Match.objectLike({ DNSName: Match.anyValue() }),
    });
    Template.fromStack(buildPublished(5).stack).resourceCountIs('AWS::Route53::RecordSet', 0);
  });
});

describe('PullRequestEnvironment ingress validation', () => {
  test('fails when the rule priority falls outside 1-50000, naming the offset that fixes it', () => {
    expect(() => buildPublished(50001)).toThrow(
      /ingress\.priorityOffset \(0\) gives pull request 50001 the listener rule priority 50001 \(pullRequestNumber \+ priorityOffset\), outside the ALB range 1-50000\. .*e\.g\. -50000/);
    expect(() => buildPublished(10, { priorityOffset: -10 })).toThrow(/ingress\.priorityOffset \(-10\) gives pull request 10 the listener rule priority 0/);
  });

  test('fails when priorityOffset is not a whole number', () => {
    expect(() => buildPublished(10, { priorityOffset: 1.5 })).toThrow(/ingress\.priorityOffset \(1\.5\) must be a whole number/);
  });

  test('fails when the published module is not deployed', () => {
    expect(() => buildPublished(10, { module: 'search' })).toThrow(/ingress\.module \("search"\) is not a deployed module\. Publish one of deploy: web, api/);
  });

  test('fails when the domain is a wildcard or not a host name', () => {
    expect(() => buildPublished(10, { domainName: '*.preview.example.com' })).toThrow(/ingress\.domainName \("\*\.preview\.example\.com"\) is a wildcard\. Give the parent domain itself, e\.g\. "preview\.example\.com"/);
    expect(() => buildPublished(10, { domainName: 'Preview_Example' })).toThrow(/ingress\.domainName \("Preview_Example"\) is not a valid host name/);
  });

  test('fails when the health check path does not start with a slash', () => {
    expect(() => buildPublished(10, { healthCheckPath: 'health' })).toThrow(/ingress\.healthCheckPath \("health"\) must start with "\/"/);
  });

  test('fails when a hosted zone is given without the load balancer, or does not hold the domain', () => {
    expect(() => buildPublished(10, (prStack) => ({ hostedZone: zone(prStack, 'example.com') }))).toThrow(/ingress\.loadBalancer \(undefined\) is required with ingress\.hostedZone/);
    expect(() => buildPublished(10, (prStack, loadBalancer) => ({ hostedZone: zone(prStack, 'example.org'), loadBalancer }))).toThrow(
      /ingress\.domainName \("preview\.example\.com"\) is not inside the hosted zone example\.org/);
  });
});
