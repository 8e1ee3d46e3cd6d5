import { createHash } from 'crypto';
import * as fs from 'fs';
import * as path from 'path';
import { Aws, Duration, Lazy, RemovalPolicy, Stack, Token, Tokenization, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as eks from 'aws-cdk-lib/aws-eks-v2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { PanopticonAuthorization } from './authorization';
import { builtAssetPath } from '../private/assets';
import { ignoreRedundantDependsOn } from '../private/cfn-lint';
import { HandlerFunction } from '../private/handler-function';
import { pascalCase } from '../private/naming';
import { invalidProp, requireDurationInRange, requireHostName, requireIntegerInRange } from '../private/validation';
import { FunctionVpcPlacement } from '../common/function-placement';
import { acknowledgeControl } from '../private/guard';
import { stackLogKey } from '../private/kms';
import { acknowledgeLogBucket, publishEventsToEventBridge } from '../private/s3';

export interface PanopticonProps {
  /**
   * Runs the function of this construct in a VPC (AWS Control Tower control CT.LAMBDA.PR.3).
   *
   * @default - outside a VPC; the control is acknowledged on the function, with the reason
   */
  readonly functionPlacement?: FunctionVpcPlacement;
  /**
   * Who may read the API.
   * @default PanopticonAuthorization.iam() - SigV4-signed requests only (CLI); use Cognito for browsers
   */
  readonly authorization?: PanopticonAuthorization;

  /**
   * How long a warm API function reuses its last ECS snapshot. Keeps ECS read calls bounded however
   * many dashboards are open.
   * @default Duration.seconds(10)
   */
  readonly cacheTtl?: Duration;

  /**
   * How often the page refreshes itself.
   * @default Duration.seconds(30)
   */
  readonly refreshInterval?: Duration;

  /**
   * Steady-state requests per second the API stage accepts.
   * @default 5
   */
  readonly throttlingRateLimit?: number;

  /**
   * Burst of requests the API stage accepts.
   * @default 10
   */
  readonly throttlingBurstLimit?: number;

  /**
   * Retention of the API function's logs and the API access logs.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;

  /**
   * Create the account-wide role that lets API Gateway write execution and access logs
   * (`AWS::ApiGateway::Account`). Turn off when your account already manages that setting.
   * @default true
   */
  readonly cloudWatchRole?: boolean;

  /**
   * ARN of a WAFv2 web ACL (scope CLOUDFRONT, in us-east-1) for the distribution.
   * @default - no web ACL: the page is static and its data needs authorisation
   */
  readonly webAclArn?: string;

  /**
   * Restrict viewers of the page by country.
   * @default - no restriction
   */
  readonly geoRestriction?: cloudfront.GeoRestriction;

  /**
   * Custom domain name of the page (e.g. `panopticon.example.com`). Requires `certificate`; the
   * distribution then refuses viewers below TLS 1.2 (`TLSv1.2_2021`). Point a DNS alias record at
   * `distribution.distributionDomainName` yourself.
   * @default - the distribution's *.cloudfront.net name, where CloudFront fixes the minimum protocol at TLSv1
   */
  readonly domainName?: string;

  /**
   * Certificate (in us-east-1) covering `domainName`.
   * @default - none; required when `domainName` is set
   */
  readonly certificate?: acm.ICertificate;
}

/**
 * Panopticon: a read-only dashboard of the ECS cluster → service → task → container instance
 * hierarchy of the account and region it is deployed in (the third talk of JAWS-UG Container #12).
 *
 * - API: a Lambda function behind an API Gateway REST API (`GET /hierarchy`) that reads ECS with the
 *   fewest calls the API allows and caches the snapshot briefly. IAM authorisation by default;
 *   request validation, throttling, access and execution logs on.
 * - Front end: `index.html` + `bundle.js` (built from `web/panopticon`) in a private, encrypted,
 *   SSL-only bucket behind CloudFront with Origin Access Control, plus a `config.json` beside them
 *   that holds this deployment's API URL, so the bundle itself is the same everywhere.
 */
export class Panopticon extends Construct {
  /** The API the page reads; `GET {url}hierarchy`. */
  public readonly api: apigw.RestApi;
  /** The function that reads ECS. */
  public readonly apiFunction: lambda.Function;
  /** The private bucket holding the page. */
  public readonly siteBucket: s3.Bucket;
  /** The bucket receiving S3 server access logs and CloudFront logs. */
  public readonly logBucket: s3.Bucket;
  /** The distribution serving the page. */
  public readonly distribution: cloudfront.Distribution;
  /** The URL of the page. */
  public readonly dashboardUrl: string;
  /** The URL of the snapshot endpoint. */
  public readonly hierarchyUrl: string;
  /** The Cognito hosted-UI sign-in URL, in Cognito mode. */
  public readonly signInUrl?: string;

  private readonly hierarchyMethod: apigw.Method;
  /** Origins the page may fetch from (CSP connect-src), besides its own. */
  private readonly connectSources: string[] = [];
  private readonly apiRole: iam.Role;
  private readonly eksClusters: eks.ICluster[] = [];
  private cognitoConfig?: { clientId: string; tokenUrl: string; redirectUri: string };

  constructor(scope: Construct, id: string, props: PanopticonProps = {}) {
    super(scope, id);
    const cacheTtl = props.cacheTtl ?? Duration.seconds(10);
    const refresh = props.refreshInterval ?? Duration.seconds(30);
    // Token-aware: a Duration built from a CfnParameter is only known at deploy time.
    requireDurationInRange(this, 'cacheTtl', props.cacheTtl, Duration.seconds(0), Duration.seconds(300), { maxReason: 'a longer cache shows stale state' });
    requireDurationInRange(this, 'refreshInterval', props.refreshInterval, Duration.seconds(5), Duration.hours(1),
      { maxReason: 'a dashboard that refreshes less often than hourly shows stale state' });
    requireHostName(this, 'domainName', props.domainName);
    if (props.domainName && !props.certificate) {
      invalidProp(this, 'certificate', undefined, `is required with domainName "${props.domainName}"`, 'Pass an ACM certificate in us-east-1 that covers that name.');
    }
    if (props.certificate && !props.domainName) {
      invalidProp(this, 'domainName', undefined, 'is required with certificate', 'Pass the domain name the certificate covers.');
    }
    requireIntegerInRange(this, 'throttlingRateLimit', props.throttlingRateLimit, 1, 10000);
    requireIntegerInRange(this, 'throttlingBurstLimit', props.throttlingBurstLimit, 1, 5000);
    const auth = props.authorization ?? PanopticonAuthorization.iam();
    const retention = props.logRetention ?? logs.RetentionDays.ONE_YEAR;

    // --- front end storage and distribution
    this.logBucket = new s3.Bucket(this, 'LogBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      // CloudFront standard logs are delivered with ACLs.
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365), noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the server access log destination of the dashboard; logging it into itself would log its own log writes.',
    });
    publishEventsToEventBridge(this.logBucket);
    acknowledgeLogBucket(this.logBucket, 'access logs (S3 server access, CloudFront standard logs, and what else the app sends here)');
    this.siteBucket = new s3.Bucket(this, 'SiteBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'site/',
      versioned: true,
      // Each deployment replaces the page's files; earlier versions are kept a month for a rollback.
      lifecycleRules: [{ noncurrentVersionExpiration: Duration.days(30) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    publishEventsToEventBridge(this.siteBucket);
    acknowledgeControl(this.siteBucket, 's3_bucket_default_encryption_kms_check',
      'CloudFront origin access control can read an SSE-KMS bucket only through a key policy that trusts every distribution of the account (the exact one would be a circular reference); SSE-S3 plus a bucket policy for this distribution is narrower.');
    acknowledgeControl(this.siteBucket, 's3_bucket_object_lock_enabled_check',
      'Each deployment of the page overwrites and prunes its files (BucketDeployment); object lock would refuse those deletes, and the files are rebuilt from source anyway.');
    // Security headers for the page. The CSP allows scripts and styles from the page itself only
    // (the inline <style> of index.html by its hash), data from this API and, in Cognito mode, the
    // hosted UI's token endpoint; nothing may frame the page.
    const siteDir = builtAssetPath('web', 'panopticon');
    const headersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'SecurityHeaders', {
      comment: 'Panopticon: CSP, HSTS, nosniff, no framing, no referrer',
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: Lazy.string({ produce: () => contentSecurityPolicy(inlineStyleHashes(path.join(siteDir, 'index.html')), this.connectSources) }),
          override: true,
        },
        strictTransportSecurity: { accessControlMaxAge: Duration.days(365), includeSubdomains: true, override: true },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: { referrerPolicy: cloudfront.HeadersReferrerPolicy.NO_REFERRER, override: true },
      },
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Panopticon ECS hierarchy dashboard',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.siteBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: headersPolicy,
      },
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: props.webAclArn,
      geoRestriction: props.geoRestriction,
      ...(props.domainName ? { domainNames: [props.domainName], certificate: props.certificate, minimumProtocolVersion: cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021 } : {}),
    });
    acknowledgeControl(this.distribution, 'cloudfront_origin_failover_enabled_check',
      'The page is a handful of static files in one bucket, redeployed from source; a failover origin would need a replicated bucket in a second region for no data that could be lost.');
    if (!props.domainName) {
      const noDomain = 'No custom domain: the default *.cloudfront.net certificate is served to every client (SNI does not apply) with a minimum protocol CloudFront fixes at TLSv1; pass domainName and certificate for a custom certificate, SNI and TLSv1.2_2021.';
      for (const rule of ['cloudfront_custom_ssl_certificate_check', 'cloudfront_sni_enabled_check', 'cloudfront_security_policy_check']) {
        acknowledgeControl(this.distribution, rule, noDomain, 'domainName');
      }
    }
    const origin = `https://${props.domainName ?? this.distribution.distributionDomainName}`;
    this.dashboardUrl = `${origin}/`;
    if (!props.domainName) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR4',
        reason: 'No custom domain: with the default *.cloudfront.net certificate CloudFront fixes the minimum protocol at TLSv1 and it cannot be raised. Pass domainName and certificate to enforce TLSv1.2_2021; HSTS is sent either way.',
      });
    }
    if (!props.webAclArn) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR2',
        reason: 'The distribution serves a static page with no data; the data comes from an API that requires IAM or Cognito authorisation. Pass webAclArn to add a WAF.',
      });
    }
    if (!props.geoRestriction) {
      Validations.of(this.distribution).acknowledge({
        id: 'AwsSolutions-CFR1',
        reason: 'The page is static and holds no data, and operators sign in from anywhere; pass geoRestriction to restrict viewers by country.',
      });
    }

    // --- API function and its read-only ECS access
    const handler = new HandlerFunction(this, 'Handler', {
      placement: props.functionPlacement,
      placementProp: 'functionPlacement',
      handler: 'panopticon-api',
      serviceName: 'panopticon',
      description: 'the Panopticon API: a read-only snapshot of the ECS hierarchy',
      logRetention: retention,
      environment: {
        CACHE_TTL_SECONDS: Tokenization.stringifyNumber(cacheTtl.toSeconds()),
        EKS_CLUSTERS: Lazy.string({ produce: () => this.eksClusters.map((c) => c.clusterName).join(',') }),
        ALLOWED_ORIGIN: origin,
      },
    });
    this.apiFunction = handler.function;
    this.apiRole = handler.role;
    const arn = (resource: string) => `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const readEcs = new iam.Policy(this, 'ReadEcsPolicy', {
      roles: [handler.role],
      statements: [
        // These List actions take no resource ARN, only "*". ListServices and ListTasks accept an
        // ecs:cluster condition, but Panopticon reads every cluster ListClusters returns, so a
        // condition could name no fewer clusters than "*" does.
        new iam.PolicyStatement({ actions: ['ecs:ListClusters', 'ecs:ListServices', 'ecs:ListTasks'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['ecs:DescribeClusters', 'ecs:ListContainerInstances', 'ecs:DescribeServices', 'ecs:DescribeTasks', 'ecs:DescribeContainerInstances'],
          resources: [arn('cluster/*'), arn('service/*'), arn('task/*'), arn('container-instance/*')],
        }),
      ],
    });
    Validations.of(readEcs).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecs:ListClusters, ecs:ListServices and ecs:ListTasks take no resource ARN (the ecs:cluster condition of the latter two could not narrow "every cluster"); they only return ARNs, and every Describe is scoped to this account and region.',
    });
    for (const resource of ['cluster', 'service', 'task', 'container-instance']) {
      Validations.of(readEcs).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:${resource}/*]`,
        reason: 'Panopticon shows every ECS object of its account and region, so Describe actions are scoped to all of that account and region only.',
      });
    }

    // --- API
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention, encryptionKey: stackLogKey(this), removalPolicy: RemovalPolicy.RETAIN });
    const cloudWatchRole = props.cloudWatchRole ?? true;
    this.api = new apigw.RestApi(this, 'Api', {
      description: 'Panopticon: read-only ECS hierarchy snapshot',
      endpointTypes: [apigw.EndpointType.REGIONAL],
      cloudWatchRole,
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      deployOptions: {
        stageName: 'v1',
        accessLogDestination: new apigw.LogGroupLogDestination(accessLogs),
        accessLogFormat: apigw.AccessLogFormat.jsonWithStandardFields({
          caller: true, httpMethod: true, ip: true, protocol: true, requestTime: true,
          resourcePath: true, responseLength: true, status: true, user: true,
        }),
        loggingLevel: apigw.MethodLoggingLevel.ERROR,
        metricsEnabled: true,
        tracingEnabled: true,
        throttlingRateLimit: props.throttlingRateLimit ?? 5,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 10,
      },
    });
    this.connectSources.push(`https://${this.api.restApiId}.execute-api.${Aws.REGION}.${Aws.URL_SUFFIX}`);
    if (cloudWatchRole) {
      const role = this.api.node.findChild('CloudWatchRole');
      Validations.of(role).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
        reason: 'The account-wide API Gateway logging role needs exactly this AWS-managed policy; it only lets API Gateway write its own logs.',
      });
    }
    Validations.of(this.api.deploymentStage).acknowledge({
      id: 'AwsSolutions-APIG3',
      reason: 'The API answers one authorised, throttled, cached read-only GET; a WAF adds cost without protecting anything the authorisation does not already.',
    });
    const validator = new apigw.RequestValidator(this, 'RequestValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const hierarchy = this.api.root.addResource('hierarchy');
    // No console test-invoke permission: the API has one GET that the page calls.
    const integration = new apigw.LambdaIntegration(handler.function, { allowTestInvoke: false });
    if (auth.mode === 'COGNITO') {
      const userPool = auth.userPool!;
      const signInBase = auth.signInBaseUrl(this)!;
      this.connectSources.push(signInBase);
      // The dashboard's own OAuth scope: only its app client may request it, and the authorizer
      // requires it, so access tokens of other clients of the same pool are refused.
      const readScope = new cognito.ResourceServerScope({ scopeName: 'read', scopeDescription: 'Read the Panopticon snapshot' });
      const identifier = `panopticon-${this.node.addr.slice(0, 16)}`;
      const scopeName = `${identifier}/read`; // literal: the resource server's own attribute is a token
      const resourceServer = new cognito.UserPoolResourceServer(this, 'ResourceServer', {
        userPool,
        identifier,
        scopes: [readScope],
      });
      const scope = cognito.OAuthScope.resourceServer(resourceServer, readScope);
      const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [userPool] });
      const redirect = `${origin}/index.html`;
      const client = new cognito.UserPoolClient(this, 'UserPoolClient', {
        userPool,
        generateSecret: false,
        preventUserExistenceErrors: true,
        // Authorization code with PKCE (OAuth 2.1): a public client without a secret; the page makes
        // the code verifier, exchanges the code at the token endpoint and keeps the tokens in memory.
        oAuth: { flows: { authorizationCodeGrant: true }, scopes: [cognito.OAuthScope.OPENID, scope], callbackUrls: [redirect], logoutUrls: [redirect] },
        accessTokenValidity: Duration.hours(1),
        idTokenValidity: Duration.hours(1),
        refreshTokenValidity: Duration.hours(1),
        enableTokenRevocation: true,
      });
      this.hierarchyMethod = hierarchy.addMethod('GET', integration, {
        authorizer,
        authorizationType: apigw.AuthorizationType.COGNITO,
        authorizationScopes: [scopeName],
        requestValidator: validator,
      });
      const preflight = hierarchy.addCorsPreflight({ allowOrigins: [origin], allowMethods: ['GET'], allowHeaders: ['Authorization'] });
      for (const rule of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
        Validations.of(preflight).acknowledge({
          id: rule,
          reason: 'CORS preflight (OPTIONS) requests never carry credentials by the Fetch standard; this mock method returns only CORS headers for the dashboard origin.',
        });
      }
      this.signInUrl = `${signInBase}/oauth2/authorize?client_id=${client.userPoolClientId}&response_type=code`
        + `&scope=openid+${encodeURIComponent(scopeName)}&redirect_uri=https%3A%2F%2F${props.domainName ?? this.distribution.distributionDomainName}%2Findex.html`;
      this.cognitoConfig = { clientId: client.userPoolClientId, tokenUrl: `${signInBase}/oauth2/token`, redirectUri: redirect };
    } else {
      this.hierarchyMethod = hierarchy.addMethod('GET', integration, { authorizationType: apigw.AuthorizationType.IAM, requestValidator: validator });
      Validations.of(this.hierarchyMethod).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'This method uses IAM (SigV4) authorisation instead of a Cognito authorizer, by design; PanopticonAuthorization.cognito() switches to Cognito.',
      });
    }
    // API Gateway's invoke permission names the API by a joined ARN; the account pins it as well
    // (CT.LAMBDA.PR.2: a service principal needs a source account or a resolvable source ARN).
    for (const node of this.api.node.findAll()) {
      if (!(node instanceof lambda.CfnPermission)) continue;
      node.sourceAccount = Aws.ACCOUNT_ID;
      acknowledgeControl(node, 'lambda_function_public_access_prohibited_check',
        'The permission names this API stage\'s ARN and this account, as an Fn::Join and a Ref AWS::AccountId; the rule accepts only literal strings or a direct resource reference there.');
    }
    this.hierarchyUrl = this.api.urlForPath('/hierarchy');

    // --- page deployment: the built bundle plus this deployment's config.json
    const deployLogs = new logs.LogGroup(this, 'DeploymentLogs', { retention, encryptionKey: stackLogKey(this), removalPolicy: RemovalPolicy.RETAIN });
    const deployRole = new iam.Role(this, 'DeploymentRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Copies the Panopticon page into its bucket (CDK BucketDeployment)',
    });
    deployLogs.grantWrite(deployRole);
    const deployment = new s3deploy.BucketDeployment(this, 'Deployment', {
      destinationBucket: this.siteBucket,
      sources: [
        s3deploy.Source.asset(builtAssetPath('web', 'panopticon')),
        s3deploy.Source.jsonData('config.json', {
          apiUrl: this.api.url,
          refreshSeconds: refresh.toSeconds(),
          auth: auth.mode,
          ...(this.signInUrl ? { signInUrl: this.signInUrl, ...this.cognitoConfig } : {}),
        }),
      ],
      distribution: this.distribution,
      distributionPaths: ['/index.html', '/bundle.js', '/config.json'],
      role: deployRole,
      logGroup: deployLogs,
      memoryLimit: 256,
    });
    this.acknowledgeBucketDeployment(deployment, deployRole);
  }

  /**
   * Shows an EKS cluster beside the ECS clusters: namespace → workload → pod → node.
   *
   * The API function gets `eks:DescribeCluster` on this cluster (its endpoint and CA) and a
   * read-only EKS access entry with `AmazonEKSViewPolicy` at cluster scope; it lists pods,
   * deployments, statefulsets, daemonsets and nodes across all namespaces (5 calls a snapshot up to
   * 500 objects of a kind). The view policy does not cover nodes: host capacity is then not shown,
   * pods still name their node. Secrets are never read. The function runs outside any VPC, so the
   * cluster's API endpoint must be public (it may be restricted to CIDRs that include Lambda's
   * egress); a private-only endpoint shows the cluster as unreadable.
   *
   * @param cluster a cluster with API (access entry) authentication mode
   */
  public addEksCluster(cluster: eks.ICluster): void {
    if (this.eksClusters.includes(cluster)) {
      invalidProp(this, 'addEksCluster(cluster)', cluster.node.path, 'is already added', 'Add each EKS cluster once.');
    }
    this.eksClusters.push(cluster);
    const id = `Eks${pascalCase(cluster.node.id)}${this.eksClusters.length > 1 ? cluster.node.addr.slice(0, 6) : ''}`;
    new iam.Policy(this, `${id}DescribePolicy`, {
      roles: [this.apiRole],
      statements: [new iam.PolicyStatement({ actions: ['eks:DescribeCluster'], resources: [cluster.clusterArn] })],
    });
    new eks.AccessEntry(this, `${id}ReadAccess`, {
      cluster,
      principal: this.apiRole.roleArn,
      accessPolicies: [eks.AccessPolicy.fromAccessPolicyName('AmazonEKSViewPolicy', { accessScopeType: eks.AccessScopeType.CLUSTER })],
    });
  }

  /** Lets an IAM principal call the API (IAM mode): `execute-api:Invoke` on `GET /hierarchy` only. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('GET', '/hierarchy', this.api.deploymentStage.stageName)],
    });
  }

  /**
   * Acknowledges the cdk-nag findings of the stack-level BucketDeployment provider function, a
   * singleton aws-cdk-lib creates once per stack and shares between every BucketDeployment in it
   * (Panopticon's included). Panopticon does not acknowledge it itself, because it does not own it:
   * call this once per stack that holds a Panopticon, after creating the deployments, if you accept
   * the reason (its runtime is chosen by aws-cdk-lib for the AWS CLI layer it bundles).
   *
   * @param stack the stack holding the provider
   * @returns how many providers were acknowledged (0 when the stack has no BucketDeployment)
   */
  public static acknowledgeBucketDeploymentProvider(stack: Stack): number {
    let count = 0;
    for (const child of stack.node.children) {
      if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The BucketDeployment provider runtime is chosen by aws-cdk-lib for its bundled AWS CLI layer; it only copies files into buckets at deploy time.',
      });
      acknowledgeControl(child, 'lambda_inside_vpc_check',
        'aws-cdk-lib\'s BucketDeployment provider copies files from the CDK asset bucket into the site bucket at deploy time: it calls only S3 and CloudFront, and offers VPC placement only per deployment, not for this shared singleton.');
      ignoreRedundantDependsOn(child.node.defaultChild);
      count++;
    }
    return count;
  }

  /** The CDK asset bucket's ARN as cdk-nag prints it: literal where the stack's environment is fixed. */
  private assetBucketArnFinding(): string {
    const stack = Stack.of(this);
    const known = (value: string, placeholder: string) => (Token.isUnresolved(value) ? placeholder : value);
    const qualifier = this.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') ?? 'hnb659fds';
    return `arn:${known(stack.partition, '<AWS::Partition>')}:s3:::cdk-${qualifier}-assets-${known(stack.account, '<AWS::AccountId>')}-${known(stack.region, '<AWS::Region>')}`;
  }

  /**
   * The BucketDeployment's provider function is a CDK-owned singleton at stack level; its findings
   * come from CDK's implementation, not from anything Panopticon configures.
   */
  private acknowledgeBucketDeployment(deployment: s3deploy.BucketDeployment, role: iam.Role): void {
    const policy = role.node.tryFindChild('DefaultPolicy');
    if (policy) {
      for (const finding of [
        'Action::s3:GetObject*', 'Action::s3:GetBucket*', 'Action::s3:List*', 'Action::s3:DeleteObject*', 'Action::s3:Abort*',
        `Resource::${this.assetBucketArnFinding()}/*`,
        `Resource::<${Stack.of(this).getLogicalId(this.siteBucket.node.defaultChild as s3.CfnBucket)}.Arn>/*`,
        'Resource::*',
      ]) {
        Validations.of(policy).acknowledge({
          id: `AwsSolutions-IAM5[${finding}]`,
          reason: 'BucketDeployment grants itself read on the CDK asset bucket and write on the dashboard bucket with these wildcards; the scope is those two buckets.',
        });
      }
    }
    void deployment;
  }
}

/** sha256 CSP sources of each inline <style> block of a page, so the CSP needs no 'unsafe-inline'. */
function inlineStyleHashes(htmlFile: string): string[] {
  const html = fs.readFileSync(htmlFile, 'utf-8');
  return [...html.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1], 'utf-8').digest('base64')}'`);
}

function contentSecurityPolicy(styleHashes: string[], connectSources: string[]): string {
  return [
    "default-src 'none'",
    "script-src 'self'",
    `style-src 'self' ${styleHashes.join(' ')}`.trim(),
    "img-src 'self' data:",
    `connect-src 'self' ${connectSources.join(' ')}`.trim(),
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}
