import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';

/**
 * The VPC the platform creates when none is given, as `<scope>/Vpc` with flow logs to
 * `<scope>/FlowLogGroup` (construct ids are part of the contract).
 */
export function createPlatformVpc(scope: Construct, maxAzs: number): ec2.Vpc {
  const vpc = new ec2.Vpc(scope, 'Vpc', {
    maxAzs,
    subnetConfiguration: [
      { name: 'Public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      // /19 leaves room for pod IPs: with the VPC CNI every pod takes an address here.
      { name: 'Private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 19 },
    ],
  });
  vpc.addFlowLog('FlowLog', {
    destination: ec2.FlowLogDestination.toCloudWatchLogs(new logs.LogGroup(scope, 'FlowLogGroup', { retention: logs.RetentionDays.ONE_YEAR })),
  });
  return vpc;
}
