// Deletes pull-request environment stacks whose `cleanup-after` time has passed. Pure logic: the
// CloudFormation client, the clock and the logger are injected (index.ts wires the real ones).
import { DeleteStackCommand, DescribeStacksCommand, Stack } from '@aws-sdk/client-cloudformation';
import { describeError, isThrottling, Log } from '../shared/runtime';

/** Tag keys written by PullRequestEnvironment (kept literal here: handlers never import lib/). */
export const TAG_PR_NUMBER = 'pr-number';
export const TAG_CLEANUP_AFTER = 'cleanup-after';

/** Bounds of `cleanup-after` the construct accepts; anything outside is treated as malformed. */
const MIN_SECONDS = 3600;
const MAX_SECONDS = 90 * 86400;

/** Stacks in these states are left alone: CloudFormation is busy with them or they are gone. */
const BUSY_OR_GONE = /_IN_PROGRESS$|^DELETE_COMPLETE$/;

export type CloudFormationCommand = DescribeStacksCommand | DeleteStackCommand;
export interface CloudFormationSender { send(command: CloudFormationCommand): Promise<unknown> }

export interface CleanupResult {
  /** Stacks this run asked CloudFormation to delete. */
  readonly deleted: { stackName: string; pr: string; expiredAt: string }[];
  /** PR stacks not yet due. */
  readonly kept: string[];
  /** PR stacks skipped, with the reason (malformed tag, busy, missing time). */
  readonly skipped: { stackName: string; reason: string }[];
  /** Stacks whose deletion failed. */
  readonly failed: { stackName: string; reason: string }[];
  /** True when listing the stacks failed: nothing was deleted. */
  readonly listingFailed: boolean;
}

/**
 * Parses the ISO 8601 durations `Duration.toIsoString()` writes (`P7D`, `PT12H`, `P1DT2H30M`);
 * years and months are refused (their length in seconds is ambiguous). Undefined when malformed.
 */
export function parseIsoDuration(value: string): number | undefined {
  const m = /^P(?:(\d+)W)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(value.trim());
  if (!m || value.trim() === 'P' || value.trim().endsWith('T')) return undefined;
  const [w, d, h, min, s] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  return (((w * 7 + d) * 24 + h) * 60 + min) * 60 + s;
}

const tag = (stack: Stack, key: string): string | undefined => stack.Tags?.find((t) => t.Key === key)?.Value;

/**
 * Lists every stack of the account and region (DescribeStacks, paginated), and deletes those tagged
 * `pr-number` whose `cleanup-after` duration after the stack's last update (or creation) has passed.
 * A listing error deletes nothing; one failed deletion does not stop the others.
 */
export async function cleanUp(cfn: CloudFormationSender, log: Log, now: Date = new Date()): Promise<CleanupResult> {
  const result: CleanupResult = { deleted: [], kept: [], skipped: [], failed: [], listingFailed: false };
  const stacks: Stack[] = [];
  try {
    let token: string | undefined;
    do {
      const page = await cfn.send(new DescribeStacksCommand({ NextToken: token })) as { Stacks?: Stack[]; NextToken?: string };
      stacks.push(...(page.Stacks ?? []));
      token = page.NextToken;
    } while (token);
  } catch (err) {
    log.error(isThrottling(err) ? 'CloudFormation throttled the stack listing; deleting nothing this run' : 'listing the stacks failed; deleting nothing this run', describeError(err));
    return { ...result, listingFailed: true };
  }

  for (const stack of stacks) {
    const stackName = stack.StackName;
    const pr = tag(stack, TAG_PR_NUMBER);
    const after = tag(stack, TAG_CLEANUP_AFTER);
    if (!stackName || pr === undefined || after === undefined) continue; // not a PR environment
    const skip = (reason: string) => {
      result.skipped.push({ stackName, reason });
      log.warn('skipping a pull-request stack', { stackName, pr, reason });
    };
    if (!/^[1-9]\d{0,9}$/.test(pr)) { skip(`pr-number tag "${pr}" is not a pull request number`); continue; }
    const seconds = parseIsoDuration(after);
    if (seconds === undefined || seconds < MIN_SECONDS || seconds > MAX_SECONDS) {
      skip(`cleanup-after tag "${after}" is not an ISO 8601 duration from 1 hour to 90 days`);
      continue;
    }
    if (stack.StackStatus && BUSY_OR_GONE.test(stack.StackStatus)) { skip(`stack is ${stack.StackStatus}`); continue; }
    const since = stack.LastUpdatedTime ?? stack.CreationTime;
    const sinceMs = since ? new Date(since).getTime() : NaN;
    if (!Number.isFinite(sinceMs) || sinceMs > now.getTime() + 300_000) {
      skip('stack has no valid creation or update time');
      continue;
    }
    const expiresAt = new Date(sinceMs + seconds * 1000);
    if (expiresAt.getTime() > now.getTime()) { result.kept.push(stackName); continue; }
    try {
      // By stack id, not name: a stack re-created under the same name since the listing is not touched.
      await cfn.send(new DeleteStackCommand({ StackName: stack.StackId ?? stackName }));
      result.deleted.push({ stackName, pr, expiredAt: expiresAt.toISOString() });
      log.info('deleting an expired pull-request environment', { stackName, stackId: stack.StackId, pr, cleanupAfter: after, expiredAt: expiresAt.toISOString() });
    } catch (err) {
      result.failed.push({ stackName, reason: describeError(err).errorMessage });
      log.error('deleting an expired pull-request environment failed; it will be retried on the next run', { stackName, pr, ...describeError(err) });
    }
  }
  log.info('pull-request environment clean-up finished', {
    deleted: result.deleted.map((d) => d.stackName), kept: result.kept.length, skipped: result.skipped.length, failed: result.failed.length,
  });
  return result;
}
