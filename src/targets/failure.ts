import { PermanentFailure, RetryLater, TargetGone } from "./target.js";

/**
 * What a failed delivery means for the next try, the same for every target that speaks HTTP
 * (the HTTP target itself, Slack's Web API): whether trying again can help, and when.
 */

/** Statuses that say "later": timeout, too early, too many, and every server error. */
function isTransientStatus(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

/**
 * The failure a non-2xx status means. `reason` is the caller's account of it (endpoint, status,
 * start of the answer); `retryAfter` the answer's Retry-After header, if any.
 *
 * A 3xx is a failure: a redirected POST turns into a GET and, followed blindly, a redirect could
 * lead a delivery to an address its URL would not. 410 says the endpoint was removed on purpose.
 */
export function failureOfStatus(
  status: number,
  reason: string,
  retryAfter?: string | string[] | null,
  now = Date.now(),
): PermanentFailure | RetryLater {
  if (isTransientStatus(status)) {
    // Only a rate limit and "unavailable" are defined to say when to come back (RFC 9110 §10.2.3).
    const honoured = status === 429 || status === 503;
    return new RetryLater(reason, honoured ? retryAfterMs(retryAfter, now) : undefined);
  }
  if (status === 410) return new TargetGone(reason);
  if (status >= 300 && status < 400) {
    return new PermanentFailure(`${reason} — redirects are not followed: set the URL to where it points`);
  }
  return new PermanentFailure(reason);
}

/** A network error or a timeout: nothing was answered, so the next try may well be. */
export function networkFailure(reason: string): RetryLater {
  return new RetryLater(reason);
}

/**
 * Retry-After is whole seconds or an HTTP date (RFC 9110 §10.2.3); anything else is ignored
 * rather than guessed at. A date in the past means "now".
 */
export function retryAfterMs(header: string | string[] | null | undefined, now = Date.now()): number | undefined {
  const value = (Array.isArray(header) ? header[0] : header)?.trim();
  if (!value) return undefined;
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  // Only dates with letters in them: Date.parse would also read "1.5" or "-5" as a date.
  if (!/[A-Za-z]/.test(value)) return undefined;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}
