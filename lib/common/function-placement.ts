import * as ec2 from 'aws-cdk-lib/aws-ec2';

/**
 * Puts the library's Lambda functions in a VPC (AWS Control Tower control CT.LAMBDA.PR.3). The
 * subnets need a route to the AWS APIs the function calls (a NAT gateway or VPC endpoints), and to
 * the internet when it calls an outside API (the New Relic bridge calls NerdGraph).
 */
export interface FunctionVpcPlacement {
  /** The VPC the functions run in. */
  readonly vpc: ec2.IVpc;
  /**
   * The subnets of their network interfaces.
   *
   * @default - the VPC's private subnets with egress
   */
  readonly subnets?: ec2.SubnetSelection;
}
