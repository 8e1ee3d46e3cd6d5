import { Duration, RemovalPolicy, Stack, StackProps } from 'aws-cdk-lib';
import * as autoscaling from 'aws-cdk-lib/aws-autoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as cloudwatchActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as ssm from 'aws-cdk-lib/aws-ssm';
import { Construct } from 'constructs';
import { ControlTower, EcsPlatform, LogAggregators, LogForwarder, LogOutput, MigrationGate, WebService, WorkerService } from '../../lib';
import { addReleaseFlow } from './release';
import { addScaling } from './scaling';

/** The proxy image by name; the application image comes from the release repository (the example builds nothing). */
const NGINX_IMAGE = 'public.ecr.aws/nginx/nginx-unprivileged:1.27-alpine';
/** The user nginx-unprivileged runs as (its image's `nginx` user). */
const NGINX_UID = '101';
/** Context key of the web load balancer's ACM certificate ARN (`cdk deploy -c rails-on-ecs:web-certificate-arn=arn:...`). */
const CERTIFICATE_CONTEXT = 'rails-on-ecs:web-certificate-arn';
/**
 * Stands in for that ARN so that the example synthesizes offline. A literal, not a CfnParameter:
 * the certificate rule of CfnGuardValidator 0.0.62 (CT.ELASTICLOADBALANCING.PR.2) crashes on a Ref.
 */
export const PLACEHOLDER_CERTIFICATE_ARN = 'arn:aws:acm:ap-northeast-1:111122223333:certificate/00000000-0000-0000-0000-000000000000';

/**
 * The FiNC talk's Rails platform on ECS: an application cluster running a unicorn web service
 * (behind nginx and an ALB) and a job worker, a utility cluster for one-off tasks and the log
 * aggregators, a fluentd forwarder on every instance of both clusters, and one aggregator service
 * per log type (`rails` and `nginx` to S3, `job` to CloudWatch Logs).
 *
 * The release flow (`release.ts`) and the scaling pieces (`scaling.ts`) build on the public
 * fields below.
 */
export class RailsOnEcsStack extends Stack {
  /** The platform: VPC, both clusters and their capacity. */
  public readonly platform: EcsPlatform;
  /** The VPC. */
  public readonly vpc: ec2.IVpc;
  /** The application cluster (web and worker services). */
  public readonly applicationCluster: ecs.Cluster;
  /** The utility cluster (migrations, asset uploads, batch jobs, log aggregators). */
  public readonly utilityCluster: ecs.Cluster;
  /** On-Demand capacity of the application cluster. */
  public readonly applicationAutoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly applicationCapacityProvider: ecs.AsgCapacityProvider;
  /** Spot capacity of the application cluster. */
  public readonly applicationSpotAutoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly applicationSpotCapacityProvider: ecs.AsgCapacityProvider;
  /** On-Demand capacity of the utility cluster. */
  public readonly utilityAutoScalingGroup: autoscaling.AutoScalingGroup;
  public readonly utilityCapacityProvider: ecs.AsgCapacityProvider;
  /** The web service construct (load balancer, target group, scaling). */
  public readonly web: WebService;
  /** The worker service construct. */
  public readonly worker: WorkerService;
  /** The unicorn web ECS service. */
  public readonly webService: ecs.IBaseService;
  public readonly webTaskDefinition: ecs.TaskDefinition;
  /** The job worker ECS service. */
  public readonly workerService: ecs.IBaseService;
  public readonly workerTaskDefinition: ecs.TaskDefinition;
  /** The per-log-type aggregators. */
  public readonly aggregators: LogAggregators;
  /** Where CI pushes the application image; the release flow moves its `migrating` and `live` tags. */
  public readonly appRepository: ecr.IRepository;
  /** Environment of every application container (services, migration, batch jobs). */
  public readonly appEnvironment: { [key: string]: string };
  /** Secrets of every application container. */
  public readonly appSecrets: { [key: string]: ecs.Secret };
  /** The forwarder daemons of each cluster. */
  public readonly applicationForwarder: LogForwarder;
  public readonly utilityForwarder: LogForwarder;
  /** Where the logging tier's default alarms notify (subscribe your pager to it). */
  public readonly loggingAlarms: sns.Topic;

  constructor(scope: Construct, id: string, props: StackProps = {}) {
    super(scope, id, props);

    this.platform = new EcsPlatform(this, 'Platform', {
      application: {
        instanceType: new ec2.InstanceType('m6i.large'),
        // Same vCPUs and memory: tasks fit alike when m6i is short.
        additionalInstanceTypes: [new ec2.InstanceType('m6a.large'), new ec2.InstanceType('m7i.large')],
        minCapacity: 2,
        maxCapacity: 10,
        // Nitro types that encrypt traffic between instances in transit (Control Tower CT.AUTOSCALING.PR.11).
        spotInstanceTypes: [new ec2.InstanceType('m6i.large'), new ec2.InstanceType('m7i.large'), new ec2.InstanceType('m6a.large')],
        spotMaxCapacity: 10,
        // Job workers inherit this: ten minutes to finish the job in hand after SIGTERM.
        containerStopTimeout: Duration.minutes(10),
      },
      // awsvpc aggregator tasks need an ENI each: xlarge instances have three to spare.
      utility: { instanceType: new ec2.InstanceType('m6i.xlarge'), additionalInstanceTypes: [new ec2.InstanceType('m6a.xlarge')], minCapacity: 2, maxCapacity: 6 },
      // The worker watchdog reads each task's memory, which only enhanced observability reports.
      containerInsights: ecs.ContainerInsights.ENHANCED,
    });
    this.vpc = this.platform.vpc;
    const app = this.platform.application;
    const utility = this.platform.utility;
    this.applicationCluster = app.cluster;
    this.utilityCluster = utility.cluster;
    this.applicationAutoScalingGroup = app.autoScalingGroup;
    this.applicationCapacityProvider = app.capacityProvider;
    this.applicationSpotAutoScalingGroup = app.spotAutoScalingGroup!;
    this.applicationSpotCapacityProvider = app.spotCapacityProvider!;
    this.utilityAutoScalingGroup = utility.autoScalingGroup;
    this.utilityCapacityProvider = utility.capacityProvider;

    this.aggregators = new LogAggregators(this, 'LogAggregators', {
      cluster: this.utilityCluster,
      capacityProviderStrategies: utility.onDemandStrategy,
      encryptionKey: this.platform.encryptionKey,
      logTypes: [
        { name: 'rails', output: LogOutput.toS3() },
        { name: 'nginx', output: LogOutput.toS3() },
        { name: 'job', output: LogOutput.toCloudWatchLogs() },
      ],
      defaultLogType: 'rails',
    });
    this.applicationForwarder = new LogForwarder(this, 'ApplicationLogForwarder', {
      cluster: this.applicationCluster,
      aggregators: this.aggregators,
      diagnosticsLogGroup: this.aggregators.diagnosticsLogGroup,
    });
    this.utilityForwarder = new LogForwarder(this, 'UtilityLogForwarder', {
      cluster: this.utilityCluster,
      aggregators: this.aggregators,
      diagnosticsLogGroup: this.aggregators.diagnosticsLogGroup,
    });
    // The logging constructs create their alarms (a type's buffer filling up, chunks diverted);
    // the example sends them to a topic so that a stuck log type pages someone.
    const loggingAlarmsKey = new kms.Key(this, 'LoggingAlarmsKey', {
      description: 'Encrypts the logging alarms topic',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    ControlTower.restrictGrantsToAwsServices(loggingAlarmsKey);
    // CloudWatch alarms can publish to an encrypted topic only if they may use its key.
    loggingAlarmsKey.grant(new iam.ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.loggingAlarms = new sns.Topic(this, 'LoggingAlarms', { masterKey: loggingAlarmsKey, enforceSSL: true });
    for (const alarm of [...this.aggregators.alarms, ...this.applicationForwarder.alarms, ...this.utilityForwarder.alarms]) {
      alarm.addAlarmAction(new cloudwatchActions.SnsAction(this.loggingAlarms));
    }

    // Secrets are referenced, never created with a value in the template.
    const secrets = {
      DATABASE_URL: ecs.Secret.fromSsmParameter(ssm.StringParameter.fromSecureStringParameterAttributes(this, 'DatabaseUrl', {
        parameterName: '/rails-on-ecs/database-url',
      })),
      RAILS_MASTER_KEY: ecs.Secret.fromSecretsManager(secretsmanager.Secret.fromSecretNameV2(this, 'RailsMasterKey', 'rails-on-ecs/rails-master-key')),
    };
    this.appSecrets = secrets;
    // The services run the digest the release flow (release.ts) last migrated: only a push, through
    // the migration, changes it; a cdk deploy keeps it.
    this.appRepository = ecr.Repository.fromRepositoryName(this, 'AppRepository', 'rails-on-ecs/app');
    const image = MigrationGate.liveImage(this.appRepository);
    const environment = { RAILS_ENV: 'production', RAILS_LOG_TO_STDOUT: '1' };
    this.appEnvironment = environment;

    // HTTPS on 443, and port 80 redirects to it; the certificate is issued outside the stack.
    const certificateArn: string = this.node.tryGetContext(CERTIFICATE_CONTEXT) ?? PLACEHOLDER_CERTIFICATE_ARN;
    this.web = new WebService(this, 'Web', {
      cluster: this.applicationCluster,
      capacityProviderStrategies: app.spotStrategy(2),
      image,
      command: ['bundle', 'exec', 'unicorn', '-c', 'config/unicorn.rb', '-p', '8080'],
      environment,
      secrets,
      logTag: 'rails',
      healthCheckPath: '/health',
      containerPort: 8080,
      proxyImage: ecs.ContainerImage.fromRegistry(NGINX_IMAGE),
      proxyPort: 8080,
      proxyLogTag: 'nginx',
      proxyUser: NGINX_UID,
      certificate: acm.Certificate.fromCertificateArn(this, 'WebCertificate', certificateArn),
      // The image links tmp/ to /tmp and logs to stdout; nginx-unprivileged writes only /tmp.
      readonlyRootFilesystem: true,
      minTaskCount: 2,
      maxTaskCount: 20,
    });
    this.webService = this.web.service;
    this.webTaskDefinition = this.web.taskDefinition;

    this.worker = new WorkerService(this, 'Worker', {
      cluster: this.applicationCluster,
      capacityProviderStrategies: app.onDemandStrategy,
      image,
      command: ['bundle', 'exec', 'sidekiq'],
      environment,
      secrets,
      logTag: 'job',
      readonlyRootFilesystem: true,
      inheritAgentStopTimeout: true,
      minTaskCount: 2,
      maxTaskCount: 10,
    });
    this.workerService = this.worker.service;
    this.workerTaskDefinition = this.worker.taskDefinition;
    addScaling(this);
    addReleaseFlow(this);
  }
}
