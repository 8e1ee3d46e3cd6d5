import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { ECSClient } from '@aws-sdk/client-ecs';
import { SSMClient } from '@aws-sdk/client-ssm';
import { Logger } from '@aws-lambda-powertools/logger';
import { configFromEnv, WatchdogConfig } from './config';
import { ServiceOutcome, watch } from './watchdog';

const logger = new Logger();
const ecs = new ECSClient({});
const ssm = new SSMClient({});
const cloudwatch = new CloudWatchClient({});
let config: WatchdogConfig | undefined;

/** Scheduled every minute by EventBridge. */
export const handler = async (): Promise<ServiceOutcome[]> => {
  config ??= configFromEnv();
  return watch(config, { ecs, ssm, cloudwatch, log: logger, now: Date.now });
};
