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
 * Scheduled by EventBridge; one NerdGraph request per invocation for every metric and service. The API
 * key is read from Secrets Manager on every poll, so a rotated key takes effect at the next minute.
 * A fault (New Relic errors, a refused PutMetricData) fails the invocation, so the error alarm sees it;
 * missing data alone does not.
 */
export const handler = async (): Promise<PollOutcome> => {
  config ??= configFromEnv();
  const outcome = await poll(config, { secrets, cloudwatch, fetch: globalThis.fetch, log: logger, sleep, now: Date.now });
  if (outcome.failed) throw new Error(`New Relic bridge poll failed: ${outcome.skippedBecause}`);
  return outcome;
};
