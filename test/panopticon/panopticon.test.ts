import { Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Panopticon, PanopticonAuthorization } from '../../lib';
import { nagFindings, testStack } from '../support/app';
import { cfnLintFindings } from '../support/cfn-lint';

describe('Panopticon with default props (IAM authorisation)', () => {
  let stack: Stack;
  let template: Template;
  let dashboard: Panopticon;

  beforeAll(() => {
    // GIVEN a stack, WHEN a Panopticon with defaults and one granted reader is added
    stack = testStack();
    dashboard = new Panopticon(stack, 'Panopticon');
    dashboard.grantRead(new iam.Role(stack, 'Operator', { assumedBy: new iam.AccountRootPrincipal() }));
    template = Template.fromStack(stack);
  });

  test('the snapshot method requires IAM (SigV4) authorisation and validates requests', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'GET',
      AuthorizationType: 'AWS_IAM',
      RequestValidatorId: Match.anyValue(),
    });
    template.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true, ValidateRequestParameters: true });
    // No anonymous methods at all (no CORS preflight in IAM mode).
    expect(Object.values(template.findResources('AWS::ApiGateway::Method')).map((m) => m.Properties.AuthorizationType)).toEqual(['AWS_IAM']);
  });

  test('the stage throttles, logs access and execution errors', () => {
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('requestId') },
      MethodSettings: [Match.objectLike({ HttpMethod: '*', ResourcePath: '/*', LoggingLevel: 'ERROR', ThrottlingRateLimit: 5, ThrottlingBurstLimit: 10 })],
    });
  });

  test('the function reads ECS with List and Describe actions only, Describe scoped to the account and region', () => {
    const policy = template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('ReadEcs') } });
    const statements = Object.values(policy)[0].Properties.PolicyDocument.Statement as { Action: string[]; Resource: unknown }[];
    const actions = statements.flatMap((s) => s.Action);
    expect(actions.every((a) => /^ecs:(List|Describe)[A-Za-z]+$/.test(a))).toBe(true);
    expect(actions.sort()).toEqual(['ecs:DescribeClusters', 'ecs:DescribeContainerInstances', 'ecs:DescribeServices', 'ecs:DescribeTasks',
      'ecs:ListClusters', 'ecs:ListContainerInstances', 'ecs:ListServices', 'ecs:ListTasks']);
    const star = statements.find((s) => s.Resource === '*')!;
    expect(star.Action.sort()).toEqual(['ecs:ListClusters', 'ecs:ListServices', 'ecs:ListTasks']);
  });

  test('the function caches for 10 seconds and answers CORS for the distribution only', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CACHE_TTL_SECONDS: '10', ALLOWED_ORIGIN: Match.objectLike({ 'Fn::Join': Match.anyValue() }) }) },
      Architectures: ['arm64'],
    });
  });

  test('the page bucket is private, encrypted, SSL-only and logged, and CloudFront reads it through OAC', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: Match.anyValue(),
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'site/' },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ DefaultRootObject: 'index.html', Logging: Match.anyValue(), DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }) }),
    });
  });

  test('the page is deployed with a config.json naming this API, and invalidated in CloudFront', () => {
    const deployment = Object.values(template.findResources('Custom::CDKBucketDeployment'))[0].Properties;
    expect(deployment.SourceObjectKeys).toHaveLength(2);
    expect(JSON.stringify(deployment.SourceMarkers)).toContain('PanopticonApi');
    expect(deployment.DistributionPaths).toEqual(['/index.html', '/bundle.js', '/config.json']);
  });

  test('grantRead allows execute-api:Invoke on GET /hierarchy only', () => {
    template.hasResourceProperties('AWS::IAM::Policy', {
      Roles: [{ Ref: Match.stringLikeRegexp('Operator') }],
      PolicyDocument: { Statement: [Match.objectLike({ Action: 'execute-api:Invoke', Resource: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('^/GET/hierarchy$')])] } })] },
    });
  });

  test('cdk-nag and cfn-lint find nothing', () => {
    expect(cfnLintFindings(stack)).toEqual([]);
    expect(nagFindings(stack)).toEqual([]);
  });
});

describe('Panopticon with Cognito authorisation', () => {
  let stack: Stack;
  let template: Template;
  let dashboard: Panopticon;

  beforeAll(() => {
    stack = testStack();
    const pool = new cognito.UserPool(stack, 'Pool');
    const domain = pool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'panopticon-test' } });
    dashboard = new Panopticon(stack, 'Panopticon', { authorization: PanopticonAuthorization.cognito(pool, domain), refreshInterval: Duration.seconds(15) });
    template = Template.fromStack(stack);
  });

  test('the snapshot method uses a Cognito user pool authorizer', () => {
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', AuthorizationType: 'COGNITO_USER_POOLS', AuthorizerId: Match.anyValue() });
    template.hasResourceProperties('AWS::ApiGateway::Authorizer', { Type: 'COGNITO_USER_POOLS' });
  });

  test('only the CORS preflight is unauthenticated, and it allows the dashboard origin only', () => {
    const options = Object.values(template.findResources('AWS::ApiGateway::Method', { Properties: { HttpMethod: 'OPTIONS' } }));
    expect(options).toHaveLength(1);
    const origin = JSON.stringify(options[0].Properties.Integration.IntegrationResponses[0].ResponseParameters['method.response.header.Access-Control-Allow-Origin']);
    expect(origin).toContain('PanopticonDistribution');
  });

  test('the page gets a sign-in URL of the hosted UI that returns to the distribution', () => {
    const url = JSON.stringify(stack.resolve(dashboard.signInUrl));
    expect(url).toContain('/oauth2/authorize?client_id=');
    expect(url).toContain('response_type=token');
    expect(url).toContain('PanopticonUserPoolClient');
    expect(url).toContain('redirect_uri=https%3A%2F%2F');
    const markers = JSON.stringify(Object.values(template.findResources('Custom::CDKBucketDeployment'))[0].Properties.SourceMarkers);
    expect(markers).toContain('PanopticonUserPoolClient');
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { AllowedOAuthFlows: ['implicit'], GenerateSecret: false });
  });
});

describe('Panopticon prop validation', () => {
  test('fails when cacheTtl exceeds 300 seconds', () => {
    expect(() => new Panopticon(testStack(), 'P', { cacheTtl: Duration.minutes(10) })).toThrow(/cacheTtl \("600 s"\) must not exceed 300 seconds/);
  });

  test('fails when refreshInterval is below 5 seconds', () => {
    expect(() => new Panopticon(testStack(), 'P', { refreshInterval: Duration.seconds(1) })).toThrow(/refreshInterval \("1 s"\) must be at least 5 seconds/);
  });

  test('fails when throttlingRateLimit is not a positive whole number', () => {
    expect(() => new Panopticon(testStack(), 'P', { throttlingRateLimit: 0 })).toThrow(/throttlingRateLimit \(0\) must be a whole number from 1/);
  });
});
