import type { Config, RetryPolicy } from "../config/schema.js";
import { RetryLater } from "../targets/target.js";

/** The default retry policy with the target's own overrides on top. */
export function retryPolicyFor(config: Config, targetId: string): RetryPolicy {
  return { ...config.retry, ...config.targets[targetId]?.retry };
}

/**
 * Milliseconds before the next try, after `attemptsMade` failed ones. Exponential doubles
 * from `delay`; both kinds stop at `maxDelay`. When the far side said how long to wait
 * (Retry-After, Slack's rate limit), we wait at least that long, still within `maxDelay`.
 */
export function nextRetryDelay(policy: RetryPolicy, attemptsMade: number, error?: Error): number {
  const base = policy.backoff === "fixed" ? policy.delay : policy.delay * 2 ** Math.max(0, attemptsMade - 1);
  const askedFor = error instanceof RetryLater && error.afterMs !== undefined ? error.afterMs : 0;
  return Math.min(Math.max(base, askedFor), policy.maxDelay);
}
