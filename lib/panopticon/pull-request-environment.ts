import { Duration, RemovalPolicy, Tags, Token, Validations } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import { Construct } from 'constructs';
import { pascalCase } from '../private/naming';
import { acknowledgeControl } from '../private/guard';
import { stackLogKey } from '../private/kms';
import { deleteServicesBeforeCapacity } from '../private/teardown';
import { duplicatesOf, invalidProp, isUnresolved, requireDurationInRange, requireIntegerInRange, requireParentDomain } from '../private/validation';

/** Tag keys a cleanup job and the Panopticon dashboard read. */
export class PullRequestEnvironmentTags {
  /** The pull request number; the dashboard groups services by it. */
  public static readonly PR_NUMBER = 'pr-number';
  /** `pr-<number>`. */
  public static readonly ENVIRONMENT = 'environment';
  /** ISO 8601 duration after the stack's last update when a cleanup job may delete the stack. */
  public static readonly CLEANUP_AFTER = 'cleanup-after';
  /** The deployed modules, space-separated (the dashboard shows them). */
  public static readonly DEPLOYED_MODULES = 'pr-modules';
  /** The modules pointed at shared endpoints, space-separated. */
  public static readonly SHARED_MODULES = 'pr-shared-modules';
  /** Where the environment is reached (the `url` prop, or the `ingress` host), when known. */
  public static readonly URL = 'pr-url';
}

/** One module (service) of the system, as the catalog declares it. */
export interface CatalogModule {
  /** Module name: lower-case letters, digits and hyphens, starting with a letter (it becomes a DNS name). */
  readonly name: string;
  /** The image a pull request deploys for this module. */
  readonly image: ecs.ContainerImage;
  /**
   * Port the container listens on.
   * @default 8080
   */
  readonly containerPort?: number;
  /**
   * Fargate CPU units of the task.
   * @default 256
   */
  readonly cpu?: number;
  /**
   * Fargate memory of the task, in MiB.
   * @default 512
   */
  readonly memoryLimitMiB?: number;
  /**
   * Tasks to run.
   * @default 1
   */
  readonly desiredCount?: number;
  /**
   * Run the container with a read-only root filesystem (AWS Control Tower CT.ECS.PR.6); give the
   * image a volume or tmpfs for what it writes first.
   * @default false
   */
  readonly readonlyRootFilesystem?: boolean;
  /**
   * The user (name or uid[:gid]) the container runs as; not root (AWS Control Tower CT.ECS.PR.3).
   * @default - the image's USER
   */
  readonly user?: string;
}

/**
 * Publishes one deployed module of a pull request environment on a shared Application Load
 * Balancer, under the host `pr-<number>.<domainName>`: one listener rule (host header) and one
 * target group per pull request, both in the environment's stack, so deleting the stack removes
 * them and leaves the shared load balancer as it was.
 *
 * DNS: a wildcard record `*.<domainName>` aliasing the load balancer, made once in the shared
 * stack, routes every pull request's host with no per-PR DNS change (the cheaper default). Pass
 * `hostedZone` and `loadBalancer` for a record per pull request instead.
 *
 * An ALB listener holds 100 rules by default (a Service Quotas limit that can be raised): that is
 * the number of pull request environments one listener can publish at once.
 */
export interface PullRequestIngressOptions {
  /**
   * The shared load balancer's listener (usually HTTPS, with a certificate covering
   * `*.<domainName>`). Its load balancer must be in the environment's `vpc`: the target group is
   * made there.
   */
  readonly listener: elbv2.IApplicationListener;
  /** Parent domain of the pull request hosts, e.g. `preview.example.com` (host `pr-101.preview.example.com`). */
  readonly domainName: string;
  /** The deployed module (a name in `deploy`) that receives the host's requests, e.g. the web front end. */
  readonly module: string;
  /**
   * Added to the pull request number to give the listener rule's priority, which must fall within
   * 1-50000 (the ALB range). Rules of the shared stack keep priorities outside the window; a
   * repository past PR 50000 slides the window with a negative offset (e.g. -50000).
   * @default 0 - the priority is the pull request number
   */
  readonly priorityOffset?: number;
  /**
   * The protocol people use to reach the host: the scheme of the URL tag the dashboard links to.
   * Use HTTP only while the shared listener has no certificate.
   * @default elbv2.ApplicationProtocol.HTTPS
   */
  readonly protocol?: elbv2.ApplicationProtocol;
  /**
   * Path of the target group's health check.
   * @default '/'
   */
  readonly healthCheckPath?: string;
  /**
   * A Route 53 zone to add an alias record `pr-<number>.<domainName>` to (needs `loadBalancer`).
   * @default - no record: a wildcard record `*.<domainName>` in the shared stack routes the host
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * The shared load balancer, the target of the `hostedZone` record.
   * @default - none; required with `hostedZone`
   */
  readonly loadBalancer?: elbv2.IApplicationLoadBalancer;
}

export interface PullRequestEnvironmentProps {
  /** The pull request number (a positive whole number). */
  readonly pullRequestNumber: number;
  /** The VPC the environment's tasks run in. */
  readonly vpc: ec2.IVpc;
  /** Every module of the system. Each must be deployed or pointed at a shared endpoint. */
  readonly catalog: CatalogModule[];
  /** Names of the catalog modules this pull request deploys. */
  readonly deploy: string[];
  /**
   * Catalog modules this environment does not deploy, mapped to the shared endpoint (URL or
   * hostname, e.g. staging's) the deployed modules use instead.
   * @default - none: every catalog module must be in `deploy`
   */
  readonly sharedEndpoints?: { [module: string]: string };
  /**
   * How long after the stack's last update a cleanup job may delete the environment (the
   * `cleanup-after` tag, an ISO 8601 duration). A duration rather than a date keeps synth
   * deterministic; the job adds it to the stack's LastUpdatedTime.
   * @default Duration.days(7)
   */
  readonly cleanupAfter?: Duration;
  /**
   * Subnets of the tasks.
   * @default - the VPC's private subnets with egress
   */
  readonly vpcSubnets?: ec2.SubnetSelection;
  /**
   * Retention of the modules' container logs.
   * @default logs.RetentionDays.ONE_MONTH
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * The URL where people reach this environment; the dashboard links to it. http(s) only, at most
   * 256 characters (it is stored as a tag). Set it when the environment is reached some other way
   * than `ingress` (e.g. through a CDN in front of it).
   * @default - the `ingress` host's URL when `ingress` is set, else none shown
   */
  readonly url?: string;
  /**
   * Publish a deployed module on a shared Application Load Balancer under `pr-<number>.<domainName>`.
   * @default - not published on a load balancer
   */
  readonly ingress?: PullRequestIngressOptions;
}

/** Highest priority an ALB listener rule may have (priorities are 1-50000). */
const MAX_RULE_PRIORITY = 50000;

const MODULE_NAME = /^[a-z][a-z0-9-]{0,38}[a-z0-9]$|^[a-z]$/;
const HOST_LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/i;

/** Why `value` is not a usable shared endpoint (URL or host[:port]), or undefined when it is fine. */
function endpointProblem(value: string): string | undefined {
  let host: string;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    let url: URL;
    try { url = new URL(value); } catch { return 'is not a valid URL'; }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return `uses ${url.protocol} instead of http: or https:`;
    host = url.hostname;
  } else {
    const m = /^([^:/\s]+)(?::(\d{1,5}))?$/.exec(value);
    if (!m) return 'is neither a URL nor a host name';
    if (m[2] !== undefined && (Number(m[2]) < 1 || Number(m[2]) > 65535)) return `has port ${m[2]} outside 1-65535`;
    host = m[1];
  }
  host = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (host === 'localhost' || host.endsWith('.localhost') || /^127\./.test(host) || host === '::1' || host === '0.0.0.0') {
    return 'points at the task itself (loopback), which no other module can reach';
  }
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(host)) return host.split('.').every((o) => Number(o) <= 255) ? undefined : 'is not a valid IPv4 address';
  if (host.length > 253 || !host.split('.').every((label) => HOST_LABEL.test(label))) return 'has an invalid host name';
  return undefined;
}

/**
 * An environment for one pull request: the modules it deploys, each on Fargate Spot in an ECS
 * cluster of its own, with every other module of the catalog explicitly pointed at a shared endpoint.
 *
 * Synth fails, listing them all, when a catalog module is neither deployed nor pointed at a shared
 * endpoint, so an environment never silently misses a module (the HRMOS talk's problem).
 *
 * Capacity: Fargate Spot rather than an Auto Scaling group of Spot instances. Pull-request
 * environments are short-lived and mostly idle; Fargate Spot needs no AMI, no instance draining on
 * interruption (ECS replaces interrupted tasks) and no capacity left running after the tasks stop,
 * at up to 70% off Fargate prices.
 *
 * Modules find each other through `<MODULE>_URL` environment variables: deployed modules through
 * Cloud Map (`<module>.pr-<n>.internal`), the others through their shared endpoint.
 * Everything is tagged `pr-number`, `environment` and `cleanup-after`.
 */
export class PullRequestEnvironment extends Construct {
  /** The cluster of this environment. */
  public readonly cluster: ecs.Cluster;
  /** `pr-<number>`. */
  public readonly environmentName: string;
  /** The private DNS namespace deployed modules register in. */
  public readonly cloudMapNamespace: servicediscovery.PrivateDnsNamespace;
  /** The security group every module of the environment shares; members reach each other. */
  public readonly securityGroup: ec2.SecurityGroup;
  /** The endpoint each catalog module has in this environment (deployed or shared), by module name. */
  public readonly endpoints: { [module: string]: string };
  /** Where people reach the environment (the `pr-url` tag): `url`, else the `ingress` host's URL. */
  public readonly url?: string;
  /** The host-header rule on the shared listener, when `ingress` is set. */
  public readonly ingressRule?: elbv2.ApplicationListenerRule;
  /** The target group of the published module, when `ingress` is set. */
  public readonly ingressTargetGroup?: elbv2.ApplicationTargetGroup;

  private readonly services = new Map<string, ecs.FargateService>();

  constructor(scope: Construct, id: string, props: PullRequestEnvironmentProps) {
    super(scope, id);
    this.validate(props);
    const pr = props.pullRequestNumber;
    const cleanupAfter = props.cleanupAfter ?? Duration.days(7);
    this.environmentName = `pr-${pr}`;
    const shared = props.sharedEndpoints ?? {};
    const deployed = new Set(props.deploy);

    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      enableFargateCapacityProviders: true,
      containerInsightsV2: ecs.ContainerInsights.ENABLED,
    });
    // Issue 19: the environment's delete must finish; services go before the FARGATE association.
    deleteServicesBeforeCapacity(this.cluster);
    this.cloudMapNamespace = new servicediscovery.PrivateDnsNamespace(this, 'Namespace', {
      name: `${this.environmentName}.internal`,
      vpc: props.vpc,
      description: `Modules of pull request ${pr}`,
    });
    this.securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: `Modules of pull request ${pr}: they reach each other, nothing else reaches them`,
      allowAllOutbound: true,
    });
    this.securityGroup.addIngressRule(this.securityGroup, ec2.Port.allTcp(), 'modules of the same pull request environment');
    // Destroyed with the environment: a pull request's logs are worth nothing once it is gone, and
    // a retained log group per PR would pile up (issue 19: PR environments leave nothing behind).
    // The retention only has to satisfy CT.CLOUDWATCH.PR.2 (a year): the group goes with the environment.
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: stackLogKey(this, RemovalPolicy.DESTROY),
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const catalog = [...props.catalog].sort((a, b) => a.name.localeCompare(b.name));
    const endpoints: { [module: string]: string } = {};
    for (const m of catalog) {
      endpoints[m.name] = deployed.has(m.name) ? `http://${m.name}.${this.environmentName}.internal:${m.containerPort ?? 8080}` : shared[m.name];
    }
    this.endpoints = endpoints;
    const environment: { [key: string]: string } = { PR_NUMBER: String(pr) };
    for (const m of catalog) environment[`${m.name.toUpperCase().replace(/-/g, '_')}_URL`] = endpoints[m.name];

    for (const m of catalog.filter((x) => deployed.has(x.name))) {
      const taskDefinition = new ecs.FargateTaskDefinition(this, `${pascalCase(m.name)}TaskDefinition`, {
        cpu: m.cpu ?? 256,
        memoryLimitMiB: m.memoryLimitMiB ?? 512,
      });
      taskDefinition.addContainer('app', {
        image: m.image,
        // The task's memory is the container's hard limit too (CT.ECS.PR.7).
        memoryLimitMiB: m.memoryLimitMiB ?? 512,
        readonlyRootFilesystem: m.readonlyRootFilesystem ?? false,
        user: m.user,
        portMappings: [{ containerPort: m.containerPort ?? 8080 }],
        environment,
        logging: ecs.LogDrivers.awsLogs({ logGroup, streamPrefix: m.name }),
      });
      acknowledgeImageChoices(taskDefinition, m);
      Validations.of(taskDefinition).acknowledge({
        id: 'AwsSolutions-ECS2',
        reason: 'The environment variables are the non-secret endpoints of the other modules and the PR number; secrets belong in ecs.Secret.',
      });
      const service = new ecs.FargateService(this, `${pascalCase(m.name)}Service`, {
        cluster: this.cluster,
        taskDefinition,
        serviceName: `${this.environmentName}-${m.name}`,
        desiredCount: m.desiredCount ?? 1,
        capacityProviderStrategies: [{ capacityProvider: 'FARGATE_SPOT', weight: 1 }],
        securityGroups: [this.securityGroup],
        vpcSubnets: props.vpcSubnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
        cloudMapOptions: { name: m.name, cloudMapNamespace: this.cloudMapNamespace, dnsRecordType: servicediscovery.DnsRecordType.A },
        propagateTags: ecs.PropagatedTagSource.SERVICE,
        enableECSManagedTags: true,
        circuitBreaker: { rollback: true },
        minHealthyPercent: 100,
        maxHealthyPercent: 200,
      });
      this.services.set(m.name, service);
    }

    let ingressUrl: string | undefined;
    if (props.ingress) {
      const ingress = props.ingress;
      const module = props.catalog.find((m) => m.name === ingress.module)!;
      const host = `${this.environmentName}.${ingress.domainName}`;
      // Both in this construct (not through listener.addTargets, which would put the rule in the
      // listener's stack), so deleting the environment's stack deletes them.
      this.ingressTargetGroup = new elbv2.ApplicationTargetGroup(this, 'IngressTargetGroup', {
        vpc: props.vpc,
        targetType: elbv2.TargetType.IP,
        protocol: elbv2.ApplicationProtocol.HTTP,
        port: module.containerPort ?? 8080,
        healthCheck: { path: ingress.healthCheckPath ?? '/' },
        // Short-lived environments: no need to wait the default 5 minutes for connections to drain.
        deregistrationDelay: Duration.seconds(30),
      });
      this.ingressRule = new elbv2.ApplicationListenerRule(this, 'IngressRule', {
        listener: ingress.listener,
        priority: pr + (ingress.priorityOffset ?? 0),
        conditions: [elbv2.ListenerCondition.hostHeaders([host])],
        targetGroups: [this.ingressTargetGroup],
      });
      // Registers the tasks and opens the module's port to the load balancer's security group; the
      // rules land in this stack, beside the environment's security group.
      this.service(ingress.module).attachToApplicationTargetGroup(this.ingressTargetGroup);
      if (ingress.hostedZone) {
        new route53.ARecord(this, 'IngressRecord', {
          zone: ingress.hostedZone,
          recordName: `${host}.`,
          target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(ingress.loadBalancer!)),
        });
      }
      ingressUrl = `${ingress.protocol === elbv2.ApplicationProtocol.HTTP ? 'http' : 'https'}://${host}`;
    }
    this.url = props.url ?? ingressUrl;

    // Not on listener rules: their Tags property is newer than cfn-lint 1.51's schema (E3002),
    // and nothing reads a rule's tags (the clean-up deletes whole stacks).
    const tag = (key: string, value: string) => Tags.of(this).add(key, value, { excludeResourceTypes: ['AWS::ElasticLoadBalancingV2::ListenerRule'] });
    tag(PullRequestEnvironmentTags.PR_NUMBER, String(pr));
    tag(PullRequestEnvironmentTags.ENVIRONMENT, this.environmentName);
    tag(PullRequestEnvironmentTags.CLEANUP_AFTER, cleanupAfter.toIsoString());
    tag(PullRequestEnvironmentTags.DEPLOYED_MODULES, [...deployed].sort().join(' '));
    const sharedModules = Object.keys(shared).sort().join(' ');
    if (sharedModules) tag(PullRequestEnvironmentTags.SHARED_MODULES, sharedModules);
    if (this.url) tag(PullRequestEnvironmentTags.URL, this.url);
  }

  /** The service of a deployed module; throws for a module this environment does not deploy. */
  public service(module: string): ecs.FargateService {
    const s = this.services.get(module);
    if (!s) throw new Error(`${this.node.path}: module "${module}" is not deployed here (deployed: ${[...this.services.keys()].join(', ') || 'none'}).`);
    return s;
  }

  /** Names of the deployed modules, sorted. */
  public get deployedModules(): string[] {
    return [...this.services.keys()].sort();
  }

  private validate(props: PullRequestEnvironmentProps): void {
    requireIntegerInRange(this, 'pullRequestNumber', props.pullRequestNumber, 1, 2147483647);
    if (props.catalog.length === 0) {
      invalidProp(this, 'catalog', [], 'is empty', 'Declare every module of the system in the catalog, then deploy or share each one.');
    }
    const names = props.catalog.map((m) => m.name);
    const badNames = names.filter((n) => !Token.isUnresolved(n) && !MODULE_NAME.test(n));
    if (badNames.length) {
      invalidProp(this, 'catalog[].name', badNames, 'must be lower-case letters, digits and hyphens, starting with a letter and at most 40 characters', 'Rename the modules; the names become DNS names.');
    }
    const dupes = duplicatesOf(names);
    if (dupes.length) invalidProp(this, 'catalog[].name', dupes, 'occurs more than once in the catalog', 'Declare each module once.');
    const known = new Set(names);
    const shared = props.sharedEndpoints ?? {};
    const sharedNames = Object.keys(shared).sort();
    const dupDeploy = duplicatesOf(props.deploy);
    if (dupDeploy.length) invalidProp(this, 'deploy', dupDeploy, 'lists modules more than once', 'List each deployed module once.');
    const unknownDeploy = props.deploy.filter((n) => !known.has(n));
    if (unknownDeploy.length) invalidProp(this, 'deploy', unknownDeploy, 'names modules that are not in the catalog', `Use catalog names: ${names.join(', ')}.`);
    const unknownShared = sharedNames.filter((n) => !known.has(n));
    if (unknownShared.length) invalidProp(this, 'sharedEndpoints', unknownShared, 'names modules that are not in the catalog', `Use catalog names: ${names.join(', ')}.`);
    const both = sharedNames.filter((n) => props.deploy.includes(n));
    if (both.length) invalidProp(this, 'sharedEndpoints', both, 'names modules that are also deployed', 'A module is either deployed or shared: remove it from one of deploy and sharedEndpoints.');
    const badEndpoints = sharedNames
      .filter((n) => !Token.isUnresolved(shared[n]))
      .map((n) => ({ n, problem: endpointProblem(shared[n]) }))
      .filter((x) => x.problem !== undefined);
    if (badEndpoints.length) {
      invalidProp(this, 'sharedEndpoints', Object.fromEntries(badEndpoints.map((x) => [x.n, shared[x.n]])),
        `has unusable endpoints: ${badEndpoints.map((x) => `${x.n} ${x.problem}`).join('; ')}`,
        'Give each shared module an http(s) URL or host[:port] that the environment can reach, such as staging\'s.');
    }
    const missing = names.filter((n) => !props.deploy.includes(n) && !Object.prototype.hasOwnProperty.call(shared, n)).sort();
    if (missing.length) {
      invalidProp(this, 'catalog', missing, `has ${missing.length} module(s) that are neither deployed nor pointed at a shared endpoint`,
        'Add each to deploy, or to sharedEndpoints with the URL of a shared instance (e.g. staging).');
    }
    const cleanup = props.cleanupAfter;
    requireDurationInRange(this, 'cleanupAfter', cleanup, Duration.hours(1), Duration.days(90), { maxReason: 'a PR environment left longer is forgotten, not tested' });
    if (props.url !== undefined && !Token.isUnresolved(props.url)
      && (props.url.length > 256 || !/^https?:\/\/[A-Za-z0-9.:/=+@_-]+$/.test(props.url))) {
      invalidProp(this, 'url', props.url, 'must be an http(s) URL of at most 256 characters using only letters, digits and . : / = + @ _ -', 'It is stored as a tag; use e.g. "https://pr-101.preview.example.com".');
    }
    if (props.ingress) this.validateIngress(props.ingress, props.pullRequestNumber, props.deploy);
    for (const m of props.catalog) {
      requireIntegerInRange(this, `catalog[${m.name}].desiredCount`, m.desiredCount, 0, 10);
      requireIntegerInRange(this, `catalog[${m.name}].containerPort`, m.containerPort, 1, 65535);
    }
  }

  private validateIngress(ingress: PullRequestIngressOptions, pr: number, deploy: string[]): void {
    if (!deploy.includes(ingress.module)) {
      invalidProp(this, 'ingress.module', ingress.module, 'is not a deployed module', `Publish one of deploy: ${deploy.join(', ') || 'none'}.`);
    }
    requireParentDomain(this, 'ingress.domainName', ingress.domainName, ingress.hostedZone?.zoneName);
    if (!isUnresolved(ingress.domainName) && `pr-${pr}.${ingress.domainName}`.length > 253) {
      invalidProp(this, 'ingress.domainName', ingress.domainName, `makes the host pr-${pr}.${ingress.domainName} longer than 253 characters`, 'Use a shorter parent domain.');
    }
    const offset = ingress.priorityOffset ?? 0;
    requireIntegerInRange(this, 'ingress.priorityOffset', ingress.priorityOffset, -2147483647, MAX_RULE_PRIORITY - 1);
    if (!isUnresolved(pr) && !isUnresolved(offset) && (pr + offset < 1 || pr + offset > MAX_RULE_PRIORITY)) {
      invalidProp(this, 'ingress.priorityOffset', offset, `gives pull request ${pr} the listener rule priority ${pr + offset} (pullRequestNumber + priorityOffset), outside the ALB range 1-${MAX_RULE_PRIORITY}`,
        `Choose an offset that puts pull request numbers within 1-${MAX_RULE_PRIORITY}, e.g. ${pr > MAX_RULE_PRIORITY ? -(Math.floor((pr - 1) / MAX_RULE_PRIORITY) * MAX_RULE_PRIORITY) : 0}.`);
    }
    const path = ingress.healthCheckPath;
    if (path !== undefined && !isUnresolved(path) && (!path.startsWith('/') || path.length > 1024)) {
      invalidProp(this, 'ingress.healthCheckPath', path, 'must start with "/" and be at most 1024 characters', 'Use the path of the module\'s health endpoint, e.g. "/health".');
    }
    if (ingress.hostedZone && !ingress.loadBalancer) {
      invalidProp(this, 'ingress.loadBalancer', undefined, 'is required with ingress.hostedZone (it is the record\'s alias target)', 'Pass the shared load balancer, or drop hostedZone and use a wildcard record in the shared stack.');
    }
  }
}

/** The pull request's image decides what it writes and which user it runs as: options of its module. */
function acknowledgeImageChoices(taskDefinition: ecs.TaskDefinition, m: CatalogModule): void {
  if (!m.readonlyRootFilesystem) {
    acknowledgeControl(taskDefinition, 'ecs_containers_readonly_access_check',
      `Module ${m.name}: whether its image runs with a read-only root filesystem is the image's property; set readonlyRootFilesystem on the module once it writes only to volumes.`,
      'readonlyRootFilesystem');
  }
  if (m.user === undefined) {
    acknowledgeControl(taskDefinition, 'ecs_task_definition_nonroot_user_check',
      `Module ${m.name}: the container runs as its image's USER; set user on the module (a name or uid) to state a non-root user in the task definition.`,
      'user');
  }
}
