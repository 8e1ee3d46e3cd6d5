import { Duration, Token, Validations } from 'aws-cdk-lib';
import * as appscaling from 'aws-cdk-lib/aws-applicationautoscaling';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { AppServiceOptions, IAppService } from './app-service';
import { addAppService, addAppTaskDefinition, disableScaleIn, mountWritableTmp, registerInCloudMap, rejectRootUser, validateAppServiceOptions } from './private/app-service-parts';
import { ForwarderLogging } from '../logging/log-driver';
import { ignoreRedundantDependsOn } from '../../private/cfn-lint';
import { acknowledgeControl } from '../../private/guard';
import { acknowledgeLoadBalancerChoices, logLoadBalancerAccess, newAccessLogBucket } from '../../private/load-balancer';
import { invalidProp, requireIntegerInRange } from '../../private/validation';

/** Props of a {@link WebService}. */
export interface WebServiceProps extends AppServiceOptions {
  /**
   * Path the load balancer checks on each task, e.g. `/health`; a Rails app should answer it
   * without touching slow dependencies.
   */
  readonly healthCheckPath: string;
  /**
   * Port the application (unicorn) listens on.
   * @default 8080
   */
  readonly containerPort?: number;
  /**
   * Time ECS ignores failed load balancer health checks after a task starts (Rails boots slowly).
   * @default Duration.seconds(60)
   */
  readonly healthCheckGracePeriod?: Duration;
  /**
   * Certificate of an HTTPS listener; plain HTTP then redirects to it.
   * @default - an HTTP listener only
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Whether the load balancer is internet-facing. An internal one accepts its listener ports from
   * the VPC's CIDR only.
   * @default true
   */
  readonly publicLoadBalancer?: boolean;
  /**
   * Protect the load balancer from deletion (Control Tower CT.ELASTICLOADBALANCING.PR.5); a stack
   * delete then fails until it is turned off again.
   * @default false
   */
  readonly deletionProtection?: boolean;
  /**
   * Bucket of the load balancer's access logs.
   * @default - a new encrypted bucket
   */
  readonly accessLogBucket?: s3.IBucket;
  /**
   * Image of a reverse proxy (nginx) in front of the application, in the same task. The load
   * balancer then targets the proxy, which reaches the application as `app:<containerPort>`.
   * @default - no proxy: the load balancer targets the application
   */
  readonly proxyImage?: ecs.ContainerImage;
  /**
   * Port the proxy listens on.
   * @default 80
   */
  readonly proxyPort?: number;
  /**
   * The user the proxy runs as, e.g. "101" for `nginx-unprivileged`; root is rejected.
   * @default - the image's user: the task definition is then acknowledged for Control Tower
   * CT.ECS.PR.3 (non-root user) as this option
   */
  readonly proxyUser?: string;
  /**
   * Fluentd tag of the proxy's output.
   * @default 'nginx'
   */
  readonly proxyLogTag?: string;
  /**
   * Time the load balancer lets in-flight requests finish on a deregistering task.
   * @default Duration.seconds(30)
   */
  readonly deregistrationDelay?: Duration;
}

/**
 * A Rails/unicorn-style web service on EC2 behind an Application Load Balancer, with a required
 * health check path, a deployment circuit breaker that rolls back, and CPU target tracking.
 */
export class WebService extends Construct implements IAppService {
  /** The ECS service (an `ecs.Ec2Service`; typed as the interface jsii requires of IAppService). */
  public readonly service: ecs.IBaseService;
  /** The task definition (an `ecs.Ec2TaskDefinition` in bridge mode). */
  public readonly taskDefinition: ecs.TaskDefinition;
  /** The application container. */
  public readonly container: ecs.ContainerDefinition;
  /** The service's scalable task count, with the CPU baseline attached; add further policies to it. */
  public readonly scalableTaskCount: ecs.ScalableTaskCount;
  /** The hosts of the service's tasks (bridge mode: the cluster's instances). */
  public readonly connections: ec2.Connections;
  /** The load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener that forwards to the service (HTTPS when a certificate is given). */
  public readonly listener: elbv2.ApplicationListener;
  /** The target group of the tasks. */
  public readonly targetGroup: elbv2.ApplicationTargetGroup;
  /** The proxy container, when `proxyImage` is set. */
  public readonly proxyContainer?: ecs.ContainerDefinition;
  /** The Cloud Map service the tasks register in, when `cloudMap` is set. */
  public readonly cloudMapService?: servicediscovery.IService;
  private readonly cpuScaling: appscaling.TargetTrackingScalingPolicy;

  constructor(scope: Construct, id: string, props: WebServiceProps) {
    super(scope, id);
    validateAppServiceOptions(this, props);
    this.validateWebProps(props);
    ({ taskDefinition: this.taskDefinition, container: this.container } = addAppTaskDefinition(this, props, Duration.seconds(30)));

    const appPort = props.containerPort ?? 8080;
    this.container.addPortMappings({ containerPort: appPort, hostPort: props.proxyImage ? undefined : 0, protocol: ecs.Protocol.TCP });
    let target = { containerName: this.container.containerName, containerPort: appPort };
    if (props.proxyImage) {
      const proxyPort = props.proxyPort ?? 80;
      this.proxyContainer = this.taskDefinition.addContainer('Proxy', {
        containerName: 'proxy',
        image: props.proxyImage,
        memoryLimitMiB: 128,
        user: props.proxyUser,
        readonlyRootFilesystem: props.readonlyRootFilesystem ?? false,
        essential: true,
        portMappings: [{ containerPort: proxyPort, hostPort: 0, protocol: ecs.Protocol.TCP }],
        logging: ForwarderLogging.logDriver(this, props.proxyLogTag ?? 'nginx'),
        stopTimeout: props.stopTimeout ?? Duration.seconds(30),
      });
      this.proxyContainer.addLink(this.container, 'app');
      if (props.readonlyRootFilesystem) mountWritableTmp(this.taskDefinition, this.proxyContainer);
      if (props.proxyUser === undefined) {
        acknowledgeControl(this.taskDefinition, 'ecs_task_definition_nonroot_user_check',
          'The application container runs as a non-root user (user, root rejected); the proxy runs as its image\'s user, which only the ' +
          'image knows: proxyUser names it (e.g. "101" for nginx-unprivileged) and puts it in the container definition.',
          'proxyUser');
      }
      target = { containerName: 'proxy', containerPort: proxyPort };
    }

    const accessLogBucket = props.accessLogBucket ?? newAccessLogBucket(this, 'AccessLogBucket');
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.cluster.vpc,
      internetFacing: props.publicLoadBalancer ?? true,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection,
    });
    logLoadBalancerAccess(this.loadBalancer, accessLogBucket, 'alb');
    if (props.publicLoadBalancer ?? true) {
      for (const sg of this.loadBalancer.connections.securityGroups) {
        Validations.of(sg).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: 'An internet-facing web service must accept its listener ports from any address; the instances accept traffic only from this load balancer.',
        });
      }
    }

    // An internal load balancer takes its listener ports from the VPC only, not from 0.0.0.0/0.
    const open = props.publicLoadBalancer ?? true;
    if (props.certificate) {
      this.listener = this.loadBalancer.addListener('HttpsListener', {
        port: 443,
        certificates: [props.certificate],
        sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
        open,
      });
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open });
    } else {
      this.listener = this.loadBalancer.addListener('HttpListener', { port: 80, open });
    }
    acknowledgeLoadBalancerChoices(this.loadBalancer, props.certificate ? undefined : this.listener, props.deletionProtection ?? false);
    if (!open) {
      for (const port of props.certificate ? [443, 80] : [80]) {
        this.loadBalancer.connections.allowFrom(ec2.Peer.ipv4(props.cluster.vpc.vpcCidrBlock), ec2.Port.tcp(port), 'Callers inside the VPC');
      }
      for (const sg of this.loadBalancer.connections.securityGroups) {
        Validations.of(sg).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: 'An internal load balancer accepts its listener ports from the VPC CIDR only; cdk-nag cannot resolve the CIDR token and reports it as open.',
        });
      }
    }

    const { service, scalableTaskCount, cpuScaling } = addAppService(this, props, this.taskDefinition, {
      healthCheckGracePeriod: props.healthCheckGracePeriod ?? Duration.seconds(60),
    });
    this.service = service;
    this.scalableTaskCount = scalableTaskCount;
    this.cpuScaling = cpuScaling;
    this.connections = service.connections;
    this.targetGroup = this.listener.addTargets('Service', {
      port: 80,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [service.loadBalancerTarget(target)],
      deregistrationDelay: props.deregistrationDelay ?? Duration.seconds(30),
      healthCheck: {
        path: props.healthCheckPath,
        // Bridge mode with dynamic host ports: check the port each task was given.
        port: 'traffic-port',
        healthyHttpCodes: '200-299',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
    if (props.cloudMap) {
      const container = target.containerName === 'proxy' ? this.proxyContainer! : this.container;
      this.cloudMapService = registerInCloudMap(service, props.cloudMap, container, props.cloudMap.containerPort ?? target.containerPort);
    }
    // aws-cdk-lib makes the service depend on the target group it already references.
    ignoreRedundantDependsOn(service.node.defaultChild);
  }

  public disableCpuScaleIn(): void {
    disableScaleIn(this.cpuScaling);
  }

  private validateWebProps(props: WebServiceProps): void {
    const path = props.healthCheckPath as string | undefined;
    if (path === undefined || (!Token.isUnresolved(path) && !/^\/[\x21-\x7e]*$/.test(path))) {
      invalidProp(this, 'healthCheckPath', path, 'must be a path starting with "/" (e.g. "/health")',
        'Give the web service a health check path that answers 200 once the application can serve requests.');
    }
    requireIntegerInRange(this, 'containerPort', props.containerPort, 1, 65535);
    requireIntegerInRange(this, 'proxyPort', props.proxyPort, 1, 65535);
    const published = props.cloudMap?.containerPort;
    const targetPort = props.proxyImage ? (props.proxyPort ?? 80) : (props.containerPort ?? 8080);
    if (published !== undefined && !Token.isUnresolved(published) && published !== targetPort) {
      invalidProp(this, 'cloudMap.containerPort', published, `is not the port the load balancer targets (${targetPort})`,
        'Leave cloudMap.containerPort unset to publish that port; callers then go through the same container as the load balancer.');
    }
    if (props.proxyImage === undefined) {
      const setOption = (['proxyPort', 'proxyLogTag', 'proxyUser'] as const).find((name) => props[name] !== undefined);
      if (setOption) invalidProp(this, setOption, props[setOption], 'is set but proxyImage is not', 'Set proxyImage to add the proxy, or remove the proxy options.');
    }
    rejectRootUser(this, 'proxyUser', props.proxyUser, 'runs the proxy as root', 'Use the image\'s unprivileged user, e.g. "101" for nginx-unprivileged.');
  }
}
