import { RemovalPolicy, Token } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { allowLogsToUse } from '../../../private/kms';

/**
 * A log group encrypted with a KMS key; the key policy lets CloudWatch Logs of this account and
 * region use the key for log groups only (the encryption-context condition).
 */
export function encryptedLogGroup(scope: Construct, id: string, key: kms.IKey, retention: logs.RetentionDays): logs.LogGroup {
  allowLogsToUse(key);
  return new logs.LogGroup(scope, id, { encryptionKey: key, retention, removalPolicy: RemovalPolicy.RETAIN });
}

/** Quotes a literal for an intrinsic function argument (`'`, `{`, `}` and `\` are escaped). */
export function intrinsicLiteral(value: string): string {
  // Tokens (e.g. a log group name) resolve to plain names that need no escaping.
  if (Token.isUnresolved(value)) return `'${value}'`;
  return `'${value.replace(/[\\'{}]/g, (c) => `\\${c}`)}'`;
}

/**
 * An intrinsic-function expression naming where a stopped task's container logs are, from the
 * container's log driver: the awslogs group and stream (`prefix/container/task-id`), or the driver
 * name with the container and task id for any other driver (fluentd forwards elsewhere).
 */
export function logLocationExpression(container: ecs.ContainerDefinition, taskArnPath: string): string {
  // Task ARNs are arn:...:task/<cluster>/<task-id>.
  const taskId = `States.ArrayGetItem(States.StringSplit(${taskArnPath}, '/'), 2)`;
  const config = container.logDriverConfig;
  const options = config?.options ?? {};
  if (config?.logDriver === 'awslogs' && options['awslogs-group']) {
    const prefix = options['awslogs-stream-prefix'];
    if (prefix) {
      return `States.Format('CloudWatch Logs group {} stream {}/{}/{}', ${intrinsicLiteral(options['awslogs-group'])}, ${intrinsicLiteral(prefix)}, ${intrinsicLiteral(container.containerName)}, ${taskId})`;
    }
    return `States.Format('CloudWatch Logs group {} (stream named by the Docker container id of task {})', ${intrinsicLiteral(options['awslogs-group'])}, ${taskId})`;
  }
  const driver = config?.logDriver ?? 'the default (json-file) log driver on the instance';
  if (options.tag) {
    return `States.Format('{} log driver with tag {}, container {}, task {}', ${intrinsicLiteral(driver)}, ${intrinsicLiteral(options.tag)}, ${intrinsicLiteral(container.containerName)}, ${taskId})`;
  }
  return `States.Format('{} log driver, container {}, task {}', ${intrinsicLiteral(driver)}, ${intrinsicLiteral(container.containerName)}, ${taskId})`;
}
