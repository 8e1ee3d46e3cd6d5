import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { FunctionVpcPlacement } from '../common/function-placement';
import { handlerCode } from './assets';
import { ignoreRedundantDependsOn } from './cfn-lint';
import { acknowledgeControl } from './guard';
import { stackLogKey } from './kms';

/** The runtime every bundled handler targets; cdk-nag AwsSolutions-L1 wants the newest Node.js. */
export const HANDLER_RUNTIME = lambda.Runtime.NODEJS_24_X;

export interface HandlerFunctionProps {
  /** Folder name under `handlers/` (and `assets/handlers/`). */
  readonly handler: string;
  /** Powertools service name: the `service` key of every log line and metric. */
  readonly serviceName: string;
  readonly description: string;
  readonly environment?: { [key: string]: string };
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  /** @default logs.RetentionDays.ONE_YEAR */
  readonly logRetention?: logs.RetentionDays;
  /** @default - the stack's log key of this library (stackLogKey) */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * @default - outside a VPC; CT.LAMBDA.PR.3 is acknowledged on the function, naming
   * `placementProp` as the prop that places it in one
   */
  readonly placement?: FunctionVpcPlacement;
  /** The public prop of the calling construct that sets `placement`, for the acknowledgement. */
  readonly placementProp: string;
  /** @default - no reserved concurrency (1 makes a scheduled handler single-flight) */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A pre-bundled Node.js handler with its own log group and its own role: the role gets write access
 * to that log group only, instead of the AWSLambdaBasicExecutionRole managed policy (AwsSolutions-IAM4),
 * and callers grant everything else explicitly.
 */
export class HandlerFunction extends Construct {
  public readonly function: lambda.Function;
  public readonly role: iam.Role;
  public readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: HandlerFunctionProps) {
    super(scope, id);
    this.logGroup = new logs.LogGroup(this, 'LogGroup', {
      retention: props.logRetention ?? logs.RetentionDays.ONE_YEAR,
      encryptionKey: props.logEncryptionKey ?? stackLogKey(this),
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `Runs ${props.description}`,
    });
    this.logGroup.grantWrite(this.role);
    this.function = new lambda.Function(this, 'Function', {
      runtime: HANDLER_RUNTIME,
      architecture: lambda.Architecture.ARM_64,
      handler: 'index.handler',
      code: handlerCode(props.handler),
      description: props.description,
      role: this.role,
      logGroup: this.logGroup,
      loggingFormat: lambda.LoggingFormat.JSON,
      timeout: props.timeout ?? Duration.seconds(30),
      memorySize: props.memorySize ?? 256,
      vpc: props.placement?.vpc,
      vpcSubnets: props.placement ? props.placement.subnets ?? { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS } : undefined,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        ...props.environment,
      },
    });
    ignoreRedundantDependsOn(this.function.node.defaultChild);
    if (props.placement) {
      allowNetworkInterfaces(this.role);
    } else {
      acknowledgeControl(this.function, 'lambda_inside_vpc_check',
        'Runs outside a VPC by default: it calls only AWS APIs (and a public API where its description says so), '
        + 'so a VPC would add NAT or endpoint costs without protecting anything it reaches.', props.placementProp);
    }
  }
}

/**
 * The ENI permissions Lambda needs to attach a function to a VPC (what AWSLambdaVPCAccessExecutionRole
 * grants, inline instead of the managed policy). EC2 accepts no resource narrower than "*" for
 * DescribeNetworkInterfaces, and Lambda creates the interfaces in subnets and security groups
 * chosen at deploy time.
 */
function allowNetworkInterfaces(role: iam.Role): void {
  role.addToPrincipalPolicy(new iam.PolicyStatement({
    actions: ['ec2:CreateNetworkInterface', 'ec2:DescribeNetworkInterfaces', 'ec2:DescribeSubnets', 'ec2:DeleteNetworkInterface',
      'ec2:AssignPrivateIpAddresses', 'ec2:UnassignPrivateIpAddresses'],
    resources: ['*'],
  }));
}
