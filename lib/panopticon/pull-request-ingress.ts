import { Validations } from 'aws-cdk-lib';
import * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import * as route53 from 'aws-cdk-lib/aws-route53';
import * as route53targets from 'aws-cdk-lib/aws-route53-targets';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { PullRequestIngressOptions } from './pull-request-environment';
import { acknowledgeLoadBalancerChoices, logLoadBalancerAccess, newAccessLogBucket } from '../private/load-balancer';
import { requireParentDomain } from '../private/validation';

export interface PullRequestIngressProps {
  /** The VPC of the load balancer; pull request environments published on it run in this VPC too. */
  readonly vpc: ec2.IVpc;
  /** Parent domain of the pull request hosts, e.g. `preview.example.com` (hosts `pr-<number>.preview.example.com`). */
  readonly domainName: string;
  /**
   * Certificate covering `*.<domainName>`. With it the listener serves HTTPS on 443 and port 80
   * redirects to it; adding one later changes the same listener in place, so published pull
   * requests keep their rules.
   * @default - HTTP on port 80 only
   */
  readonly certificate?: acm.ICertificate;
  /**
   * Zone to add the wildcard alias record `*.<domainName>` to: one record routes every pull
   * request's host, with no DNS change per pull request.
   * @default - no record; point `*.<domainName>` at `loadBalancer` yourself
   */
  readonly hostedZone?: route53.IHostedZone;
  /**
   * Bucket for the load balancer's access logs (SSE-S3 encrypted: ALB logs support no KMS keys).
   * @default - a new retained bucket
   */
  readonly accessLogBucket?: s3.IBucket;
  /**
   * Whether the load balancer is reachable from the internet (reviewers outside the VPC).
   * @default true
   */
  readonly internetFacing?: boolean;
  /**
   * Deletion protection of the load balancer (AWS Control Tower CT.ELASTICLOADBALANCING.PR.5):
   * a stack delete then stops until someone turns it off.
   * @default false
   */
  readonly deletionProtection?: boolean;
}

/**
 * The shared Application Load Balancer pull request environments publish themselves on, one host
 * each (`pr-<number>.<domainName>`): deploy it once in a shared stack and pass
 * `ingressFor(module)` as each `PullRequestEnvironment`'s `ingress`.
 *
 * Hosts no environment claims get a 404 from the listener's default action. Deleting a pull
 * request's stack removes its rule and target group and leaves this load balancer as it was.
 */
export class PullRequestIngress extends Construct {
  /** The shared load balancer. */
  public readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  /** The listener pull requests add their rules to: HTTPS on 443 with a certificate, else HTTP on 80. */
  public readonly listener: elbv2.ApplicationListener;
  /** Parent domain of the pull request hosts. */
  public readonly domainName: string;
  /** The protocol of `listener`. */
  public readonly protocol: elbv2.ApplicationProtocol;

  constructor(scope: Construct, id: string, props: PullRequestIngressProps) {
    super(scope, id);
    requireParentDomain(this, 'domainName', props.domainName, props.hostedZone?.zoneName);
    this.domainName = props.domainName;
    const open = props.internetFacing ?? true;

    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: props.vpc,
      internetFacing: open,
      dropInvalidHeaderFields: true,
      deletionProtection: props.deletionProtection ?? false,
    });
    logLoadBalancerAccess(this.loadBalancer, props.accessLogBucket ?? newAccessLogBucket(this, 'AccessLogBucket'), 'pull-requests');
    // The same construct id whether HTTP or HTTPS: adding a certificate later updates this
    // listener in place (same ARN), so the pull requests' rules stay attached.
    const notFound = elbv2.ListenerAction.fixedResponse(404, { contentType: 'text/plain', messageBody: 'No pull request environment has this host.' });
    this.protocol = props.certificate ? elbv2.ApplicationProtocol.HTTPS : elbv2.ApplicationProtocol.HTTP;
    this.listener = this.loadBalancer.addListener('Listener', props.certificate
      ? { port: 443, certificates: [props.certificate], sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS, open, defaultAction: notFound }
      : { port: 80, open, defaultAction: notFound });
    if (props.certificate) this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open });
    acknowledgeLoadBalancerChoices(this.loadBalancer, props.certificate ? undefined : this.listener, props.deletionProtection ?? false);
    if (open) {
      for (const sg of this.loadBalancer.connections.securityGroups) {
        Validations.of(sg).acknowledge({
          id: 'AwsSolutions-EC23',
          reason: 'Reviewers reach pull request environments from anywhere; unknown hosts get a 404 and the tasks accept traffic only from this load balancer.',
        });
      }
    } else {
      for (const port of props.certificate ? [443, 80] : [80]) {
        this.loadBalancer.connections.allowFrom(ec2.Peer.ipv4(props.vpc.vpcCidrBlock), ec2.Port.tcp(port), 'Callers inside the VPC');
      }
    }
    if (props.hostedZone) {
      new route53.ARecord(this, 'WildcardRecord', {
        zone: props.hostedZone,
        recordName: `*.${props.domainName}.`,
        target: route53.RecordTarget.fromAlias(new route53targets.LoadBalancerTarget(this.loadBalancer)),
      });
    }
  }

  /** The `ingress` of a `PullRequestEnvironment` that publishes `module` on this load balancer. */
  public ingressFor(module: string): PullRequestIngressOptions {
    return { listener: this.listener, domainName: this.domainName, module, protocol: this.protocol, loadBalancer: this.loadBalancer };
  }
}
