import { Logger } from '@aws-lambda-powertools/logger';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { cleanUp, CleanupResult } from './cleanup';

const logger = new Logger();
const cfn = new CloudFormationClient({});

/** Scheduled by EventBridge; the event carries nothing the clean-up needs. */
export const handler = async (): Promise<CleanupResult> => cleanUp(cfn, logger);
