import { App, CfnOutput, CfnResource, Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cognito from 'aws-cdk-lib/aws-cognito';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { Construct } from 'constructs';
import { CatalogModule, ControlTower, Panopticon, PanopticonAuthorization, PullRequestEnvironment, PullRequestEnvironmentCleanup, PullRequestIngress } from '../../lib';

export interface PanopticonStackProps extends StackProps {
  /**
   * Certificate covering `*.preview.example.com`: the preview load balancer then serves HTTPS and
   * redirects HTTP to it.
   * @default - HTTP only (no certificate in an offline example)
   */
  readonly previewCertificate?: acm.ICertificate;
}

/**
 * The Panopticon dashboard for the account and region it is deployed in: it reads ECS at run time,
 * so it shows the RailsOnEcs clusters and every pull-request environment next to it without
 * referencing them. Browser users sign in through a Cognito user pool; IAM principals can also be
 * granted the API with `dashboard.grantRead()` when the authorisation is IAM.
 */
export class PanopticonStack extends Stack {
  public readonly dashboard: Panopticon;
  public readonly userPool: cognito.UserPool;
  /** The network pull request environments run in, shared so that one load balancer reaches them all. */
  public readonly previewVpc: ec2.Vpc;
  /** The shared load balancer: one host per pull request, `pr-<n>.preview.example.com`. */
  public readonly preview: PullRequestIngress;

  constructor(scope: Construct, id: string, props: PanopticonStackProps = {}) {
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

    // Pull request environments share this VPC (one NAT gateway for all of them) so that the
    // shared load balancer can reach their tasks. Flow and access logs go to the dashboard's log
    // bucket. DNS: a wildcard record *.preview.example.com aliasing the load balancer (pass
    // hostedZone to PullRequestIngress to create it) routes every PR host.
    this.previewVpc = new ec2.Vpc(this, 'PreviewVpc', {
      ipAddresses: ec2.IpAddresses.cidr('10.80.0.0/20'),
      maxAzs: 2,
      natGateways: 1,
      subnetConfiguration: [
        // The load balancer and the NAT gateway have their own addresses (Control Tower CT.EC2.PR.11).
        { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 22, mapPublicIpOnLaunch: false },
        { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
      ],
      flowLogs: { All: { destination: ec2.FlowLogDestination.toS3(this.dashboard.logBucket, 'preview-vpc-flow-logs/') } },
    });
    ControlTower.acknowledgeVpcDefaultSecurityGroupLockdown(this);
    // The VPC's default-security-group lockdown is a CDK custom resource whose Lambda DependsOn its
    // role, which cfn-lint reports as redundant (W3005); the dependency is CDK's and harmless.
    const lockdown = this.node.tryFindChild('Custom::VpcRestrictDefaultSGCustomResourceProvider')?.node.tryFindChild('Handler');
    if (lockdown instanceof CfnResource) lockdown.addMetadata('cfn-lint', { config: { ignore_checks: ['W3005'] } });
    this.preview = new PullRequestIngress(this, 'Preview', {
      vpc: this.previewVpc,
      domainName: 'preview.example.com',
      certificate: props.previewCertificate,
      accessLogBucket: this.dashboard.logBucket,
    });
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
  /** The deployed module reviewers open at `pr-<n>.preview.example.com`. */
  readonly entryModule: string;
  /** The shared VPC and load balancer (the dashboard stack's). */
  readonly shared: PanopticonStack;
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
 * One pull request's environment: the changed modules on Fargate Spot in the shared VPC, every
 * other module pointed at staging, the entry module published as `pr-<n>.preview.example.com` on
 * the shared load balancer. Deleting the stack removes its listener rule and target group and
 * leaves the shared load balancer as it was.
 */
export class PullRequestEnvironmentStack extends Stack {
  public readonly pullRequestEnvironment: PullRequestEnvironment;

  constructor(scope: Construct, id: string, props: PullRequestEnvironmentStackProps) {
    super(scope, id, props);
    const shared = Object.fromEntries(Object.entries(STAGING).filter(([m]) => !props.deploy.includes(m)));
    this.pullRequestEnvironment = new PullRequestEnvironment(this, 'Environment', {
      pullRequestNumber: props.pullRequestNumber,
      vpc: props.shared.previewVpc,
      catalog: exampleCatalog(),
      deploy: props.deploy,
      sharedEndpoints: shared,
      cleanupAfter: Duration.days(7),
      // The dashboard links to the host (the pr-url tag is set from it).
      ingress: props.shared.preview.ingressFor(props.entryModule),
    });
  }
}

/** The dashboard plus two pull-request environments, as the talk's team would run them. */
export function addPanopticonExample(app: App): { dashboard: PanopticonStack; pullRequests: PullRequestEnvironmentStack[] } {
  const dashboard = new PanopticonStack(app, 'Panopticon');
  return {
    dashboard,
    pullRequests: [
      new PullRequestEnvironmentStack(app, 'PanopticonPr101', { pullRequestNumber: 101, deploy: ['web', 'api'], entryModule: 'web', shared: dashboard }),
      new PullRequestEnvironmentStack(app, 'PanopticonPr102', { pullRequestNumber: 102, deploy: ['api', 'search'], entryModule: 'api', shared: dashboard }),
    ],
  };
}
