import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { Logger } from '@aws-lambda-powertools/logger';
import { sleep } from '../shared/runtime';
import { poll, PollOutcome } from './bridge';
import { BridgeConfig, configFromEnv } from './config';

const logger = new Logger();
const secrets = new SecretsManagerClient({});
const cloudwatch = new CloudWatchClient({});
let config: BridgeConfig | undefined;

/**
 * Scheduled by EventBridge; one NerdGraph query per invocation. The API key is read from Secrets
 * Manager on every poll, so a rotated key takes effect at the next minute.
 */
export const handler = async (): Promise<PollOutcome> => {
  config ??= configFromEnv();
  return poll(config, { secrets, cloudwatch, fetch: globalThis.fetch, log: logger, sleep, now: Date.now });
};
