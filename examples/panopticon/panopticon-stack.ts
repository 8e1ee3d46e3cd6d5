import { App, CfnOutput, CfnResource, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { CatalogModule, ControlTower, Panopticon, PanopticonAuthorization, PullRequestEnvironment, PullRequestEnvironmentCleanup, StackLogKey } from '../../lib';

/**
 * The Panopticon dashboard for the account and region it is deployed in: it reads ECS at run time,
 * so it shows the RailsOnEcs clusters and every pull-request environment next to it without
 * referencing them. Browser users sign in through a Cognito user pool; IAM principals can also be
 * granted the API with `dashboard.grantRead()` when the authorisation is IAM.
 */
export class PanopticonStack extends Stack {
  public readonly dashboard: Panopticon;
  public readonly userPool: cognito.UserPool;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.userPool = new cognito.UserPool(this, 'Users', {
      selfSignUpEnabled: false,
      signInAliases: { email: true },
      mfa: cognito.Mfa.REQUIRED,
      mfaSecondFactor: { otp: true, sms: false },
      passwordPolicy: { minLength: 12, requireDigits: true, requireLowercase: true, requireUppercase: true, requireSymbols: true },
      accountRecovery: cognito.AccountRecovery.EMAIL_ONLY,
      featurePlan: cognito.FeaturePlan.PLUS,
      standardThreatProtectionMode: cognito.StandardThreatProtectionMode.FULL_FUNCTION,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const domain = this.userPool.addDomain('Domain', { cognitoDomain: { domainPrefix: 'panopticon-example-dashboard' } });
    this.dashboard = new Panopticon(this, 'Panopticon', {
      authorization: PanopticonAuthorization.cognito(this.userPool, domain),
    });
    // Deletes pull-request stacks (PanopticonPr*) once their cleanup-after tag has passed.
    new PullRequestEnvironmentCleanup(this, 'PullRequestCleanup');
    // The stack-level BucketDeployment provider belongs to the stack, not to Panopticon: the stack
    // owner accepts its findings here.
    Panopticon.acknowledgeBucketDeploymentProvider(this);
    new CfnOutput(this, 'DashboardUrl', { value: this.dashboard.dashboardUrl });
    new CfnOutput(this, 'HierarchyUrl', { value: this.dashboard.hierarchyUrl });
  }
}

/** The modules of the system (the HRMOS talk had 35; a handful shows the pattern). */
export function exampleCatalog(): CatalogModule[] {
  const image = ecs.ContainerImage.fromRegistry('public.ecr.aws/nginx/nginx:stable');
  return [
    { name: 'web', image, containerPort: 80 },
    { name: 'api', image, containerPort: 80 },
    { name: 'search', image, containerPort: 80 },
    { name: 'auth', image, containerPort: 80 },
    { name: 'notifier', image, containerPort: 80 },
  ];
}

export interface PullRequestEnvironmentStackProps extends StackProps {
  readonly pullRequestNumber: number;
  /** Catalog modules this pull request changes, and so deploys. */
  readonly deploy: string[];
}

/** Staging endpoints the environments use for the modules they do not deploy. */
const STAGING: { [module: string]: string } = {
  web: 'https://web.staging.example.com',
  api: 'https://api.staging.example.com',
  search: 'https://search.staging.example.com',
  auth: 'https://auth.staging.example.com',
  notifier: 'notifier.staging.example.com:8080',
};

/**
 * One pull request's environment: its own small VPC (deleting the stack leaves nothing behind),
 * the changed modules on Fargate Spot, every other module pointed at staging.
 */
export class PullRequestEnvironmentStack extends Stack {
  public readonly pullRequestEnvironment: PullRequestEnvironment;

  constructor(scope: Construct, id: string, props: PullRequestEnvironmentStackProps) {
    super(scope, id, props);
    const vpc = new ec2.Vpc(this, 'Vpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.80.0.0/20'),
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      // Deleted with the environment: the retention only has to meet Control Tower's year.
      flowLogs: { All: { destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(this, 'FlowLogs', {
        retention: logs.RetentionDays.ONE_YEAR, encryptionKey: StackLogKey.of(this), removalPolicy: RemovalPolicy.DESTROY,
      })) } },
    });
    ControlTower.acknowledgeVpcDefaultSecurityGroupLockdown(this);
    // The VPC's default-security-group lockdown is a CDK custom resource whose Lambda DependsOn its
    // role, which cfn-lint reports as redundant (W3005); the dependency is CDK's and harmless.
    const lockdown = this.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider')?.node.tryFindChild('Handler');
    if (lockdown instanceof CfnResource) lockdown.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    const shared = Object.fromEntries(Object.entries(STAGING).filter(([m]) => !props.deploy.includes(m)));
    this.pullRequestEnvironment = new PullRequestEnvironment(this, 'Environment', {
      pullRequestNumber: props.pullRequestNumber,
      vpc,
      catalog: exampleCatalog(),
      deploy: props.deploy,
      sharedEndpoints: shared,
      cleanupAfter: Duration.days(7),
      // Shown as the environment's link on the dashboard; the example assumes a shared preview
      // ingress routing pr-<n>.preview.example.com to the PR's web module (not created here).
      url: `https://pr-${props.pullRequestNumber}.preview.example.com`,
    });
  }
}

/** The dashboard plus two pull-request environments, as the talk's team would run them. */
export function addPanopticonExample(app: App): { dashboard: PanopticonStack; pullRequests: PullRequestEnvironmentStack[] } {
  return {
    dashboard: new PanopticonStack(app, 'Panopticon'),
    pullRequests: [
      new PullRequestEnvironmentStack(app, 'PanopticonPr101', { pullRequestNumber: 101, deploy: ['web', 'api'] }),
      new PullRequestEnvironmentStack(app, 'PanopticonPr102', { pullRequestNumber: 102, deploy: ['api', 'search'] }),
    ],
  };
}
