import {
  LogLevel,
  WebAPIHTTPError,
  WebAPIPlatformError,
  WebAPIRateLimitedError,
  WebAPIRequestError,
  WebClient,
} from "@slack/web-api";
import type { SlackTargetConfig } from "../config/schema.js";
import type { Message } from "../messages/message.js";
import { renderSlackMessage } from "../messages/render.js";
import type { SlackMessage } from "../messages/slack.js";
import { markLate } from "../messages/slack-late.js";
import { failureOfStatus, networkFailure } from "./failure.js";
import { replyInExistingThread, type SlackCalls, sendInThread } from "./slack-thread.js";
import {
  answered,
  type DeliveryContext,
  type DeliveryReceipt,
  PermanentFailure,
  RateLimited,
  RetryLater,
  type Target,
} from "./target.js";

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

  const calls: SlackCalls = {
    async post({ text, blocks }: SlackMessage, thread) {
      try {
        const common = { channel: config.channel, text, blocks, unfurl_links: false };
        // reply_broadcast also shows a thread reply in the channel; the client's types want it
        // with a thread_ts, so the three shapes are spelt out.
        const result = await client.chat.postMessage(
          !thread
            ? common
            : thread.broadcast
              ? { ...common, thread_ts: thread.ts, reply_broadcast: true }
              : { ...common, thread_ts: thread.ts },
        );
        return { channel: result.channel ?? config.channel, ts: result.ts ?? "?" };
      } catch (error) {
        throw classifySlackError(error);
      }
    },
    async update(channel, ts, { text, blocks }) {
      try {
        await client.chat.update({ channel, ts, text, blocks });
        return true;
      } catch (error) {
        if (error instanceof WebAPIPlatformError && error.data.error === "message_not_found") return false;
        throw classifySlackError(error);
      }
    },
  };

  const permalinks = new SlackPermalinks(client);

  return {
    id,
    type: "slack",
    async send(message, context) {
      const { state } = context;
      if (config.thread && state) {
        return permalinks.add(await sendInThread(calls, config, message, { ...context, state }));
      }
      const rendered = renderSlackMessage(message);
      const late = context.late && markLate(rendered, message.event.occurredAt, context.late.newerAt);
      const posted = await calls.post(late || rendered);
      return permalinks.add({
        detail: `posted to ${posted.channel} at ${posted.ts}`,
        where: { slack: { channel: posted.channel, ts: posted.ts } },
      });
    },
    // Slack takes about one post a second per channel: every target posting there shares it.
    paceOf: () => (config.pace > 0 ? { key: `slack:${config.channel}`, everyMs: config.pace } : undefined),
    ...(config.thread && {
      async replyInThread(message: Message, context: DeliveryContext) {
        const { state } = context;
        const receipt = state && (await replyInExistingThread(calls, config, message, { ...context, state }));
        return receipt ? permalinks.add(receipt) : undefined;
      },
    }),
  };
}

/** How long a message waits for the workspace's URL, the first time it is asked for. */
const askForAtMostMs = 2000;
/** A workspace's URL is asked for again after this long when Slack could not say it. */
const askAgainAfterMs = 10 * 60_000;

/**
 * Links to the messages a target posts, for the history: Slack builds a message's permalink
 * from the workspace's URL, which `auth.test` says, asked once per target (and again after a
 * failure, at most every ten minutes). Without it, a message is named by channel and ts only.
 */
class SlackPermalinks {
  /** The workspace's URL once Slack said it; `null` when it could not, asked again after a while. */
  #url: string | null | undefined;
  #asking: Promise<void> | undefined;
  #askedAt = 0;

  constructor(private readonly client: WebClient) {}

  async add(receipt: DeliveryReceipt): Promise<DeliveryReceipt> {
    const slack = receipt.where?.slack;
    if (!slack) return receipt;
    const workspace = await this.#workspaceUrl();
    if (!workspace) return receipt;
    const link = new URL(`archives/${slack.channel}/p${slack.ts.replace(".", "")}`, workspace);
    if (slack.threadTs) {
      link.searchParams.set("thread_ts", slack.threadTs);
      link.searchParams.set("cid", slack.channel);
    }
    return { ...receipt, where: { ...receipt.where, slack: { ...slack, permalink: link.href } } };
  }

  async #workspaceUrl(): Promise<string | undefined> {
    if (typeof this.#url === "string") return this.#url;
    if (!this.#asking && (this.#url === undefined || Date.now() - this.#askedAt > askAgainAfterMs)) {
      this.#askedAt = Date.now();
      this.#asking = this.client.auth.test().then(
        ({ url }) => {
          this.#url = url && URL.canParse(url) ? url : null;
        },
        () => {
          this.#url = null;
        },
      );
      void this.#asking.finally(() => {
        this.#asking = undefined;
      });
    }
    // A message waits for the answer briefly at most: a link is not worth a late delivery.
    if (this.#asking) await Promise.race([this.#asking, later(askForAtMostMs)]);
    return this.#url ?? undefined;
  }
}

function later(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

/** Slack's error, as the queue understands it: retry (when), or give up. */
export function classifySlackError(error: unknown): Error {
  if (error instanceof WebAPIRateLimitedError) {
    return answered(new RateLimited("Slack rate limit", error.retryAfter * 1000), { status: 429, code: "ratelimited" });
  }
  if (error instanceof WebAPIPlatformError) {
    const code = error.data.error;
    const failure = transientSlackErrors.has(code)
      ? new RetryLater(`Slack: ${code}`)
      : new PermanentFailure(`Slack: ${code}`);
    return answered(failure, { code });
  }
  if (error instanceof WebAPIHTTPError) {
    const failure = failureOfStatus(
      error.statusCode,
      `Slack answered HTTP ${error.statusCode}`,
      error.headers?.["retry-after"],
    );
    return answered(failure, { status: error.statusCode });
  }
  if (error instanceof WebAPIRequestError) {
    const code = (error.original as NodeJS.ErrnoException).code;
    const failure = networkFailure(`Slack unreachable: ${error.original.message}`);
    return code ? answered(failure, { code }) : failure;
  }
  return error instanceof Error ? error : new Error(String(error));
}
