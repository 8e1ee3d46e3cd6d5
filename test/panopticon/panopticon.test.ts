import { CfnParameter, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
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
    Panopticon.acknowledgeBucketDeploymentProvider(stack);
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

  test('the page is served with a CSP, HSTS, nosniff and no framing', () => {
    const policy = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0].Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(policy.StrictTransportSecurity).toEqual({ AccessControlMaxAgeSec: 31536000, IncludeSubdomains: true, Override: true });
    expect(policy.ContentTypeOptions).toEqual({ Override: true });
    expect(policy.FrameOptions).toEqual({ FrameOption: 'DENY', Override: true });
    const csp = JSON.stringify(stack.resolve(policy.ContentSecurityPolicy.ContentSecurityPolicy));
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toMatch(/style-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).toContain('.execute-api.');
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ DefaultCacheBehavior: Match.objectLike({ ResponseHeadersPolicyId: { Ref: Match.stringLikeRegexp('SecurityHeaders') } }) }),
    });
  });

  test('acknowledges nothing on the stack-level BucketDeployment provider it does not own', () => {
    const other = testStack();
    new Panopticon(other, 'Panopticon');
    const findings = nagFindings(other);
    expect(findings.some((f) => /AwsSolutions-L1/.test(JSON.stringify(f)) && /CDKBucketDeployment/.test(JSON.stringify(f)))).toBe(true);
    expect(Panopticon.acknowledgeBucketDeploymentProvider(other)).toBe(1);
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

  test('the page signs in with the authorization code flow (PKCE by the page), no implicit flow', () => {
    const url = JSON.stringify(stack.resolve(dashboard.signInUrl));
    expect(url).toContain('/oauth2/authorize?client_id=');
    expect(url).toContain('response_type=code');
    expect(url).not.toContain('response_type=token');
    expect(url).toContain('PanopticonUserPoolClient');
    expect(url).toContain('redirect_uri=https%3A%2F%2F');
    const markers = JSON.stringify(Object.values(template.findResources('Custom::CDKBucketDeployment'))[0].Properties.SourceMarkers);
    expect(markers).toContain('PanopticonUserPoolClient');
    // The hosted UI domain twice: the sign-in URL and the token endpoint the page exchanges the code at.
    expect(markers.match(/PoolDomain/g)).toHaveLength(2);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { AllowedOAuthFlows: ['code'], GenerateSecret: false, AllowedOAuthFlowsUserPoolClient: true });
  });

  test('the authorizer only accepts access tokens with the dashboard client\'s own scope', () => {
    const server = Object.values(template.findResources('AWS::Cognito::UserPoolResourceServer'))[0].Properties;
    const scope = `${server.Identifier}/read`;
    template.hasResourceProperties('AWS::ApiGateway::Method', { HttpMethod: 'GET', AuthorizationScopes: [scope] });
    const client = Object.values(template.findResources('AWS::Cognito::UserPoolClient'))[0].Properties;
    expect(client.AllowedOAuthScopes).toHaveLength(2);
    expect(client.AllowedOAuthScopes[0]).toBe('openid');
    expect(JSON.stringify(client.AllowedOAuthScopes)).toMatch(/PanopticonResourceServer[0-9A-F]+"},"\/read"/);
  });

  test('the CSP lets the page reach the hosted UI token endpoint', () => {
    const policy = Object.values(template.findResources('AWS::CloudFront::ResponseHeadersPolicy'))[0].Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig;
    expect(JSON.stringify(stack.resolve(policy.ContentSecurityPolicy.ContentSecurityPolicy))).toContain('amazoncognito.com');
  });
});

describe('Panopticon with an EKS cluster (addEksCluster)', () => {
  const stack = testStack();
  const dashboard = new Panopticon(stack, 'Panopticon');
  const cluster = eks.Cluster.fromClusterAttributes(stack, 'Platform', { clusterName: 'platform' });
  dashboard.addEksCluster(cluster);
  const template = Template.fromStack(stack);

  test('the API function gets a read-only (AmazonEKSViewPolicy) access entry at cluster scope', () => {
    template.hasResourceProperties('AWS::EKS::AccessEntry', {
      ClusterName: 'platform',
      PrincipalArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('PanopticonHandlerRole'), 'Arn'] },
      AccessPolicies: [{ AccessScope: { Type: 'cluster' }, PolicyArn: Match.anyValue() }],
    });
    const entry = Object.values(template.findResources('AWS::EKS::AccessEntry'))[0].Properties;
    expect(JSON.stringify(entry.AccessPolicies[0].PolicyArn)).toContain(':cluster-access-policy/AmazonEKSViewPolicy');
    template.resourceCountIs('AWS::EKS::AccessEntry', 1);
  });

  test('the function may describe that cluster only, and is told its name', () => {
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { PolicyName: Match.stringLikeRegexp('EksPlatformDescribe') } }))[0].Properties;
    expect(policy.PolicyDocument.Statement).toHaveLength(1);
    expect(policy.PolicyDocument.Statement[0].Action).toBe('eks:DescribeCluster');
    expect(JSON.stringify(policy.PolicyDocument.Statement[0].Resource)).toContain(':cluster/platform');
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ EKS_CLUSTERS: 'platform' }) } });
  });

  test('fails when the same cluster is added twice', () => {
    expect(() => dashboard.addEksCluster(cluster)).toThrow(/addEksCluster\(cluster\) \("TestStack\/Platform"\) is already added/);
  });
});

describe('Panopticon prop validation', () => {
  test('fails when cacheTtl exceeds 300 seconds', () => {
    expect(() => new Panopticon(testStack(), 'P', { cacheTtl: Duration.minutes(10) })).toThrow(/cacheTtl \("10 minutes"\) exceeds 5 minutes/);
  });

  test('accepts a refreshInterval and cacheTtl from CfnParameters (known at deploy time only)', () => {
    const stack = testStack();
    const refresh = new CfnParameter(stack, 'Refresh', { type: 'Number', default: 30 });
    const ttl = new CfnParameter(stack, 'Ttl', { type: 'Number', default: 10 });
    new Panopticon(stack, 'P', { refreshInterval: Duration.seconds(refresh.valueAsNumber), cacheTtl: Duration.seconds(ttl.valueAsNumber) });
    const fn = Object.values(Template.fromStack(stack).findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { CACHE_TTL_SECONDS: Match.anyValue() } } } }))[0];
    expect(fn.Properties.Environment.Variables.CACHE_TTL_SECONDS).toEqual({ Ref: 'Ttl' });
  });

  test('serves a custom domain with TLSv1.2_2021 and fails when the certificate is missing', () => {
    const stack = testStack();
    const certificate = acm.Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc');
    const dashboard = new Panopticon(stack, 'P', { domainName: 'panopticon.example.com', certificate });
    expect(dashboard.dashboardUrl).toBe('https://panopticon.example.com/');
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({ Aliases: ['panopticon.example.com'], ViewerCertificate: Match.objectLike({ MinimumProtocolVersion: 'TLSv1.2_2021' }) }),
    });
    expect(() => new Panopticon(testStack(), 'Q', { domainName: 'panopticon.example.com' })).toThrow(/certificate \(undefined\) is required with domainName "panopticon.example.com"/);
  });

  test('fails when refreshInterval is below 5 seconds', () => {
    expect(() => new Panopticon(testStack(), 'P', { refreshInterval: Duration.seconds(1) })).toThrow(/refreshInterval \("1 second"\) is shorter than 5 seconds/);
  });

  test('fails when throttlingRateLimit is not a positive whole number', () => {
    expect(() => new Panopticon(testStack(), 'P', { throttlingRateLimit: 0 })).toThrow(/throttlingRateLimit \(0\) must be a whole number from 1/);
  });
});
