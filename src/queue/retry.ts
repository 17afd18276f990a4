import type { Config, RetryPolicy } from "../config/schema.js";
import { RetryLater } from "../targets/target.js";

/**
 * How far a retry may move from its computed delay, either way. Deliveries that failed at the
 * same moment (a target down for everyone) would otherwise all come back at the same moment,
 * and hit a recovering target in lockstep on every retry.
 */
const jitter = 0.2;

/**
 * How the routing of a webhook is tried again in the inbound queue (queue/inbound/routing-worker.ts),
 * where only what the stream lane could not route goes: a bug, or Redis failing mid-way. Not
 * in the config: a few quick tries, then the failed set to look into (queue/jobs.ts, keepFailedRouting).
 * No jitter: these are few, and hit our own Redis, not a recovering target.
 */
export const inboundRetry: RetryPolicy = {
  attempts: 5,
  backoff: "exponential",
  delay: 1000,
  // Never reached with 5 tries (the last wait is 8 s); a bound all the same.
  maxDelay: 60_000,
  schedule: [],
};

/** Milliseconds before the inbound queue's next try of a webhook's routing, after `attemptsMade` failed ones: 1 s, 2 s, 4 s, 8 s. */
export function nextInboundRetryDelay(attemptsMade: number): number {
  return Math.min(plannedDelay(inboundRetry, attemptsMade), inboundRetry.maxDelay);
}

/** What a delivery job needs from the config: its target's tries, and how long a dead letter stays. */
export interface DeliveryPolicy {
  attempts: number;
  deadLetters: { keep: number; max: number };
}

/** The default retry policy with the target's own overrides on top. */
export function retryPolicyFor(config: Config, targetId: string): RetryPolicy {
  return { ...config.retry, ...config.targets[targetId]?.retry };
}

/** What a new delivery job to `targetId` is given: its tries and the dead-letter retention. */
export function deliveryPolicyFor(config: Config, targetId: string): DeliveryPolicy {
  return { attempts: retryPolicyFor(config, targetId).attempts, deadLetters: config.deadLetters };
}

/**
 * Milliseconds before the next try, after `attemptsMade` failed ones: the schedule's entry
 * for it, or `delay` doubling (exponential) or as it is (fixed); all stop at `maxDelay`. When the far side said how long to wait
 * (Retry-After, Slack's rate limit), we wait at least that long, still within `maxDelay`.
 *
 * The result is drawn uniformly from ±20% around that delay, cut to the window it must stay
 * in: never sooner than the far side asked, never later than `maxDelay`. `random` is
 * injectable so tests can pin the draw.
 */
export function nextRetryDelay(
  policy: RetryPolicy,
  attemptsMade: number,
  error?: Error,
  random: () => number = Math.random,
): number {
  const base = plannedDelay(policy, attemptsMade);
  const askedFor = error instanceof RetryLater && error.afterMs !== undefined ? error.afterMs : 0;
  const delay = Math.min(Math.max(base, askedFor), policy.maxDelay);
  const earliest = Math.max(delay * (1 - jitter), Math.min(askedFor, policy.maxDelay));
  const latest = Math.min(delay * (1 + jitter), policy.maxDelay);
  // Rounded up: a whole millisecond never lands before the far side's ask, nor past maxDelay (whole).
  return Math.ceil(earliest + random() * (latest - earliest));
}

/** The wait the policy plans after `attemptsMade` failed tries, before jitter and Retry-After. */
function plannedDelay(policy: RetryPolicy, attemptsMade: number): number {
  const failed = Math.max(1, attemptsMade);
  switch (policy.backoff) {
    case "schedule":
      // Past its end, a schedule repeats its last wait.
      return policy.schedule[Math.min(failed, policy.schedule.length) - 1] ?? policy.delay;
    case "fixed":
      return policy.delay;
    case "exponential":
      return policy.delay * 2 ** (failed - 1);
  }
}
