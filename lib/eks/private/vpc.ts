import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Annotations } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { acknowledgeDefaultSecurityGroupLockdown } from '../../private/guard';
import { stackLogKey } from '../../private/kms';
import { IngressScheme } from '../addons/load-balancer-controller';

/**
 * The VPC the platform creates when none is given, as `<scope>/Vpc` with flow logs to
 * `<scope>/FlowLogGroup` (construct ids are part of the contract).
 */
export function createPlatformVpc(scope: Construct, maxAzs: number): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs,
    subnetConfiguration: [
      // Load balancers and NAT gateways have their own addresses: nothing launched here needs a public IP (CT.EC2.PR.11).
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24, mapPublicIpOnLaunch: false },
      // /19 leaves room for pod IPs: with the VPC CNI every pod takes an address here.
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
    ],
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(scope, 'FlowLogGroup', {
      retention: logs.RetentionDays.ONE_YEAR,
      encryptionKey: stackLogKey(scope),
    })),
  });
  acknowledgeDefaultSecurityGroupLockdown(scope);
  return vpc;
}

/**
 * CIDRs of the subnets an ALB of `scheme` runs in (public for internet-facing, private for
 * internal, both when unknown). An imported subnet without a known CIDR falls back to the VPC CIDR,
 * with a warning, rather than failing synth.
 */
export function loadBalancerCidrs(scope: Construct, vpc: ec2.IVpc, scheme: IngressScheme | undefined): string[] {
  const subnets = [
    ...(scheme === IngressScheme.INTERNAL ? [] : vpc.publicSubnets),
    ...(scheme === IngressScheme.INTERNET_FACING ? [] : vpc.privateSubnets),
  ];
  try {
    const cidrs = subnets.map((s) => s.ipv4CidrBlock);
    if (cidrs.length > 0) return cidrs;
  } catch {
    // Imported subnets without ipv4CidrBlock throw on access.
  }
  Annotations.of(scope).addWarningV2('cdk-container-patterns:eks-alb-cidr-fallback',
    'The load balancer subnets\' CIDRs are unknown (imported VPC without subnet CIDRs), so allowFromVpc admits the whole VPC CIDR. Import the subnets with their ipv4CidrBlock to narrow it.');
  return [vpc.vpcCidrBlock];
}
