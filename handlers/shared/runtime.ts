// Runtime helpers shared by the scaling handlers (newrelic-bridge, instance-drainer, worker-watchdog).

import type { Logger } from '@aws-lambda-powertools/logger';

/** The part of the Powertools Logger the handlers' logic uses; tests pass a Logger whose output they capture. */
export type Log = Pick<Logger, 'debug' | 'info' | 'warn' | 'error'>;

/** Splits a list into chunks of at most `size` items (API batch limits). */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Error name and message for a log line, without the stack. */
export function describeError(err: unknown): { errorName: string; errorMessage: string } {
  if (err instanceof Error) return { errorName: err.name, errorMessage: err.message };
  return { errorName: 'Unknown', errorMessage: String(err) };
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException', 'Throttling', 'ThrottledException', 'RequestLimitExceeded', 'TooManyRequestsException',
  'ProvisionedThroughputExceededException', 'RequestThrottled', 'RequestThrottledException', 'SlowDown',
]);

/** True when an AWS SDK error says the caller is throttled (after the SDK's own retries gave up). */
export function isThrottling(err: unknown): boolean {
  return err instanceof Error && THROTTLING_NAMES.has(err.name);
}

/** Reads a required environment variable, failing with its name. */
export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (value === undefined || value === '') throw new Error(`Environment variable ${name} is not set`);
  return value;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
