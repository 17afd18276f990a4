import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from "@slack/web-api";
import type { SlackTargetConfig } from "../config/schema.js";
import { renderSlack } from "../messages/slack.js";
import { failureOfStatus, networkFailure } from "./failure.js";
import { PermanentFailure, RetryLater, type Target } from "./target.js";

/**
 * Slack errors that say "not now" rather than "never". Every other code needs someone to change
 * the config or Slack (`channel_not_found`, `not_in_channel`, `invalid_auth`, `account_inactive`,
 * `is_archived` …) and fails at once; so does a code Slack adds later, rather than being retried
 * for a day without a chance.
 */
const transientSlackErrors = new Set([
  "ratelimited",
  "internal_error",
  "fatal_error",
  "service_unavailable",
  "request_timeout",
  "team_added_to_org",
]);

export function createSlackTarget(id: string, config: SlackTargetConfig): Target {
  const client = new WebClient(config.token, {
    ...(config.apiUrl ? { slackApiUrl: config.apiUrl } : {}),
    // Our queue owns retries, so that every attempt is counted, logged and bounded in one place.
    retryConfig: { retries: 0 },
    rejectRateLimitedCalls: true,
    timeout: 10_000,
    logLevel: LogLevel.ERROR,
  });

  return {
    id,
    type: "slack",
    async send(message) {
      const { text, blocks } = renderSlack(message);
      try {
        const result = await client.chat.postMessage({ channel: config.channel, text, blocks, unfurl_links: false });
        return { detail: `posted to ${result.channel ?? config.channel} at ${result.ts ?? "?"}` };
      } catch (error) {
        throw classifySlackError(error);
      }
    },
  };
}

/** Slack's error, as the queue understands it: retry (when), or give up. */
export function classifySlackError(error: unknown): Error {
  if (error instanceof WebAPIRateLimitedError) {
    return new RetryLater("Slack rate limit", error.retryAfter * 1000);
  }
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    return transientSlackErrors.has(code) ? new RetryLater(`Slack: ${code}`) : new PermanentFailure(`Slack: ${code}`);
  }
  if (error instanceof WebAPIHTTPError) {
    return failureOfStatus(error.statusCode, `Slack answered HTTP ${error.statusCode}`, error.headers?.["retry-after"]);
  }
  if (error instanceof WebAPIRequestError) {
    return networkFailure(`Slack unreachable: ${error.original.message}`);
  }
  return error instanceof Error ? error : new Error(String(error));
}
