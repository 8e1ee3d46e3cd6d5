import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { CatalogModule, PullRequestEnvironment, PullRequestEnvironmentProps } from '../../lib';
import { testStack } from '../support/app';

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
