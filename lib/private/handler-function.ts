import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { handlerCode } from './assets';
import { ignoreRedundantDependsOn } from './cfn-lint';

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
  /** @default - log group encrypted with the AWS-owned key */
  readonly logEncryptionKey?: kms.IKey;
  /** @default - none: the function runs outside a VPC */
  readonly vpc?: ec2.IVpc;
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
      encryptionKey: props.logEncryptionKey,
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
      vpc: props.vpc,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        ...props.environment,
      },
    });
    ignoreRedundantDependsOn(this.function.node.defaultChild);
  }
}
