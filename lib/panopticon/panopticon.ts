import { Aws, Duration, RemovalPolicy, Stack, Token, Validations } from 'aws-cdk-lib';
import * as apigw from 'aws-cdk-lib/aws-apigateway';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as cognito from 'aws-cdk-lib/aws-cognito';
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
import { invalidProp, requireIntegerInRange } from '../private/validation';

export interface PanopticonProps {
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

  constructor(scope: Construct, id: string, props: PanopticonProps = {}) {
    super(scope, id);
    const cacheTtl = props.cacheTtl ?? Duration.seconds(10);
    const refresh = props.refreshInterval ?? Duration.seconds(30);
    if (!Token.isUnresolved(cacheTtl.toSeconds()) && cacheTtl.toSeconds() > 300) {
      invalidProp(this, 'cacheTtl', `${cacheTtl.toSeconds()} s`, 'must not exceed 300 seconds, or the dashboard shows stale state', 'Use a few seconds, e.g. Duration.seconds(10).');
    }
    if (refresh.toSeconds() < 5) {
      invalidProp(this, 'refreshInterval', `${refresh.toSeconds()} s`, 'must be at least 5 seconds', 'Refreshing faster than the API cache only costs requests; use Duration.seconds(30).');
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
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    Validations.of(this.logBucket).acknowledge({
      id: 'AwsSolutions-S1',
      reason: 'This bucket is the server access log destination of the dashboard; logging it into itself would log its own log writes.',
    });
    this.siteBucket = new s3.Bucket(this, 'SiteBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      serverAccessLogsBucket: this.logBucket,
      serverAccessLogsPrefix: 'site/',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'Panopticon ECS hierarchy dashboard',
      defaultRootObject: 'index.html',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.siteBucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
      },
      enableLogging: true,
      logBucket: this.logBucket,
      logFilePrefix: 'cloudfront/',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      webAclId: props.webAclArn,
      geoRestriction: props.geoRestriction,
    });
    const origin = `https://${this.distribution.distributionDomainName}`;
    this.dashboardUrl = `${origin}/`;
    Validations.of(this.distribution).acknowledge({
      id: 'AwsSolutions-CFR4',
      reason: 'The default *.cloudfront.net certificate is used (no custom domain); CloudFront then negotiates TLS 1.2+ with modern clients, and the page holds no secrets.',
    });
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
      handler: 'panopticon-api',
      serviceName: 'panopticon',
      description: 'the Panopticon API: a read-only snapshot of the ECS hierarchy',
      logRetention: retention,
      environment: {
        CACHE_TTL_SECONDS: String(cacheTtl.toSeconds()),
        ALLOWED_ORIGIN: origin,
      },
    });
    this.apiFunction = handler.function;
    const arn = (resource: string) => `arn:${Aws.PARTITION}:ecs:${Aws.REGION}:${Aws.ACCOUNT_ID}:${resource}`;
    const readEcs = new iam.Policy(this, 'ReadEcsPolicy', {
      roles: [handler.role],
      statements: [
        // These three List actions support no resource-level permissions: IAM only accepts "*".
        new iam.PolicyStatement({ actions: ['ecs:ListClusters', 'ecs:ListServices', 'ecs:ListTasks'], resources: ['*'] }),
        new iam.PolicyStatement({
          actions: ['ecs:DescribeClusters', 'ecs:ListContainerInstances', 'ecs:DescribeServices', 'ecs:DescribeTasks', 'ecs:DescribeContainerInstances'],
          resources: [arn('cluster/*'), arn('service/*'), arn('task/*'), arn('container-instance/*')],
        }),
      ],
    });
    Validations.of(readEcs).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'ecs:ListClusters, ecs:ListServices and ecs:ListTasks support no resource-level permissions; they only return ARNs, and every Describe is scoped to this account and region.',
    });
    for (const resource of ['cluster', 'service', 'task', 'container-instance']) {
      Validations.of(readEcs).acknowledge({
        id: `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ecs:<AWS::Region>:<AWS::AccountId>:${resource}/*]`,
        reason: 'Panopticon shows every ECS object of its account and region, so Describe actions are scoped to all of that account and region only.',
      });
    }

    // --- API
    const accessLogs = new logs.LogGroup(this, 'ApiAccessLogs', { retention, removalPolicy: RemovalPolicy.RETAIN });
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
        throttlingRateLimit: props.throttlingRateLimit ?? 5,
        throttlingBurstLimit: props.throttlingBurstLimit ?? 10,
      },
    });
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
    const integration = new apigw.LambdaIntegration(handler.function);
    if (auth.mode === 'COGNITO') {
      const userPool = auth.userPool!;
      const domain = auth.userPoolDomain!;
      const authorizer = new apigw.CognitoUserPoolsAuthorizer(this, 'Authorizer', { cognitoUserPools: [userPool] });
      const redirect = `${origin}/index.html`;
      const client = new cognito.UserPoolClient(this, 'UserPoolClient', {
        userPool,
        generateSecret: false,
        preventUserExistenceErrors: true,
        // The page is a static file without a back end to exchange codes: it takes the ID token
        // from the redirect fragment and keeps it in sessionStorage for the tab's lifetime.
        oAuth: { flows: { implicitCodeGrant: true }, scopes: [cognito.OAuthScope.OPENID, cognito.OAuthScope.EMAIL], callbackUrls: [redirect] },
        idTokenValidity: Duration.hours(1),
      });
      this.hierarchyMethod = hierarchy.addMethod('GET', integration, { authorizer, authorizationType: apigw.AuthorizationType.COGNITO, requestValidator: validator });
      const preflight = hierarchy.addCorsPreflight({ allowOrigins: [origin], allowMethods: ['GET'], allowHeaders: ['Authorization'] });
      for (const rule of ['AwsSolutions-APIG4', 'AwsSolutions-COG4']) {
        Validations.of(preflight).acknowledge({
          id: rule,
          reason: 'CORS preflight (OPTIONS) requests never carry credentials by the Fetch standard; this mock method returns only CORS headers for the dashboard origin.',
        });
      }
      this.signInUrl = `${domain.baseUrl()}/oauth2/authorize?client_id=${client.userPoolClientId}&response_type=token&scope=openid+email&redirect_uri=`
        + `https%3A%2F%2F${this.distribution.distributionDomainName}%2Findex.html`;
    } else {
      this.hierarchyMethod = hierarchy.addMethod('GET', integration, { authorizationType: apigw.AuthorizationType.IAM, requestValidator: validator });
      Validations.of(this.hierarchyMethod).acknowledge({
        id: 'AwsSolutions-COG4',
        reason: 'This method uses IAM (SigV4) authorisation instead of a Cognito authorizer, by design; PanopticonAuthorization.cognito() switches to Cognito.',
      });
    }
    this.hierarchyUrl = this.api.urlForPath('/hierarchy');

    // --- page deployment: the built bundle plus this deployment's config.json
    const deployLogs = new logs.LogGroup(this, 'DeploymentLogs', { retention, removalPolicy: RemovalPolicy.RETAIN });
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
          ...(this.signInUrl ? { signInUrl: this.signInUrl } : {}),
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

  /** Lets an IAM principal call the API (IAM mode): `execute-api:Invoke` on `GET /hierarchy` only. */
  public grantRead(grantee: iam.IGrantable): iam.Grant {
    return iam.Grant.addToPrincipal({
      grantee,
      actions: ['execute-api:Invoke'],
      resourceArns: [this.api.arnForExecuteApi('GET', '/hierarchy', this.api.deploymentStage.stageName)],
    });
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
    for (const child of Stack.of(this).node.children) {
      if (!child.node.id.startsWith('Custom::CDKBucketDeployment')) continue;
      Validations.of(child).acknowledge({
        id: 'AwsSolutions-L1',
        reason: 'The BucketDeployment provider runtime is chosen by aws-cdk-lib for its bundled AWS CLI layer; it only copies the page into the bucket at deploy time.',
      });
      ignoreRedundantDependsOn(child.node.defaultChild);
    }
    void deployment;
  }
}
