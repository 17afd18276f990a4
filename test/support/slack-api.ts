import { createServer } from "node:http";
import { closeServer, listen, readBody } from "./listen.js";
import { waitForCount } from "./wait.js";

/**
 * The arguments of one successful `chat.postMessage` or `chat.update`, decoded as Slack decodes
 * them, with the message's `ts` (the one Slack gave, or the one updated).
 */
export interface SlackPost {
  channel: string;
  ts: string;
  text?: string;
  blocks?: unknown[];
  thread_ts?: string;
  reply_broadcast?: boolean;
  [argument: string]: unknown;
}

/** The workspace's URL, as `auth.test` answers it. */
export const slackWorkspaceUrl = "https://relay-test.slack.com/";

/** The channel id every post is answered with, as Slack answers with the id of a #name. */
export const slackChannelId = "C0123456789";

export type SlackFailure = "ratelimited" | "server_error" | "channel_not_found" | "invalid_auth";

export interface SlackApiServer {
  /** Base URL to give `@slack/web-api` as `slackApiUrl` (ends in `/api/`). */
  url: string;
  posts: SlackPost[];
  /** Every successful `chat.update`, in order. */
  updates: SlackPost[];
  /** A message as it stands now (posted, then updated), by ts; undefined once deleted. */
  message(ts: string): SlackPost | undefined;
  /** Deletes a message, as someone in the channel would: updating it is then `message_not_found`. */
  deleteMessage(ts: string): void;
  /** Every `chat.postMessage` call received, successful or not. */
  calls: number;
  /** The next calls fail like this, in order. */
  failNext(...failures: SlackFailure[]): void;
  /**
   * Slack's per-channel pace: from now on, a `chat.postMessage` to `channel` sooner than
   * `everyMs` after the last one accepted there is answered 429 with `Retry-After: retryAfter`
   * (seconds), as Slack answers a channel posted to faster than about once a second.
   */
  limitChannel(channel: string, limit: { everyMs: number; retryAfter: number }): void;
  /** How many posts to `channel` were answered 429 by `limitChannel`. */
  refusedIn(channel: string): number;
  waitForPosts(count: number, timeoutMs?: number): Promise<SlackPost[]>;
  /** Forgets posts, calls and failures not yet used, between tests. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for slack.com/api that answers `chat.postMessage`, `chat.update` and `auth.test` with the shapes, status
 * codes and headers the real Web API uses (`ok: false` with an error code at HTTP 200, 429 with
 * `Retry-After` when rate limited), so the real `@slack/web-api` client is what gets tested.
 */
export async function startSlackApi(options: { token: string; channels?: string[] }): Promise<SlackApiServer> {
  const posts: SlackPost[] = [];
  const updates: SlackPost[] = [];
  const messages = new Map<string, SlackPost>();
  let sequence = 0;
  const failures: SlackFailure[] = [];
  const state = { calls: 0 };
  const limits = new Map<string, { everyMs: number; retryAfter: number; last: number; refused: number }>();

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      response.end(JSON.stringify(payload));
    };
    const method = new URL(request.url ?? "/", "http://slack").pathname.replace(/^\/api\//, "");
    if (method !== "chat.postMessage" && method !== "chat.update" && method !== "auth.test")
      return reply(200, { ok: false, error: "unknown_method" });

    const args = decodeArguments(request.headers["content-type"] ?? "", body);
    const token = request.headers.authorization?.replace(/^Bearer /, "") ?? args.token;
    if (token !== options.token) return reply(200, { ok: false, error: "invalid_auth" });
    delete args.token;
    // Who the token is, as Slack answers it: the workspace's URL is what permalinks start with.
    if (method === "auth.test") {
      return reply(200, {
        ok: true,
        url: slackWorkspaceUrl,
        team: "Relay Test",
        user: "relay",
        team_id: "T0123",
        user_id: "U0123",
      });
    }
    // Slack refuses what breaks its limits; a stand-in that took anything would prove nothing.
    const tooBig = sizeProblem(args);
    if (tooBig) return reply(200, { ok: false, error: tooBig });

    if (method === "chat.update") {
      // Slack wants the channel's id here, not a #name: what chat.postMessage answered with.
      if (args.channel !== slackChannelId) return reply(200, { ok: false, error: "channel_not_found" });
      const current = messages.get(String(args.ts ?? ""));
      if (!current) return reply(200, { ok: false, error: "message_not_found" });
      const updated = { ...current, text: args.text as string, blocks: args.blocks as unknown[] };
      messages.set(current.ts, updated);
      updates.push({ ...args, channel: slackChannelId, ts: current.ts });
      return reply(200, { ok: true, channel: slackChannelId, ts: current.ts, text: updated.text });
    }
    state.calls += 1;

    const failure = failures.shift();
    if (failure === "ratelimited") return reply(429, { ok: false, error: "ratelimited" }, { "retry-after": "1" });
    if (failure === "server_error") return reply(500, { ok: false, error: "internal_error" });
    if (failure) return reply(200, { ok: false, error: failure });

    const channel = String(args.channel ?? "");
    if (!channel) return reply(200, { ok: false, error: "channel_not_found" });
    if (options.channels && !options.channels.includes(channel))
      return reply(200, { ok: false, error: "channel_not_found" });
    if (!args.text && !args.blocks) return reply(200, { ok: false, error: "no_text" });
    const limit = limits.get(channel);
    if (limit) {
      if (Date.now() - limit.last < limit.everyMs) {
        limit.refused += 1;
        return reply(429, { ok: false, error: "ratelimited" }, { "retry-after": String(limit.retryAfter) });
      }
      limit.last = Date.now();
    }

    // Unique within this server, as Slack's are within a channel.
    sequence += 1;
    const ts = `${Math.floor(Date.now() / 1000)}.${String(sequence).padStart(6, "0")}`;
    const post = { ...args, channel, ts } as SlackPost;
    posts.push(post);
    messages.set(ts, post);
    reply(200, { ok: true, channel: slackChannelId, ts, message: { type: "message", text: post.text, ts } });
  });

  const url = `${await listen(server)}/api/`;
  return {
    url,
    posts,
    updates,
    message: (ts) => messages.get(ts),
    deleteMessage: (ts) => void messages.delete(ts),
    get calls() {
      return state.calls;
    },
    failNext: (...next) => failures.push(...next),
    limitChannel: (channel, limit) => void limits.set(channel, { ...limit, last: 0, refused: 0 }),
    refusedIn: (channel) => limits.get(channel)?.refused ?? 0,
    waitForPosts: (count, timeoutMs) => waitForCount(posts, count, "Slack posts", timeoutMs),
    reset() {
      posts.length = 0;
      updates.length = 0;
      messages.clear();
      failures.length = 0;
      limits.clear();
      state.calls = 0;
    },
    close: () => closeServer(server),
  };
}

const booleanArguments = new Set(["reply_broadcast", "unfurl_links", "unfurl_media", "mrkdwn", "as_user"]);

/** Slack takes form-encoded arguments (objects such as `blocks` as JSON strings) or a JSON body. */
function decodeArguments(contentType: string, body: string): Record<string, unknown> {
  if (contentType.startsWith("application/json")) return JSON.parse(body || "{}");
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    if (key === "blocks" || key === "attachments" || key === "metadata") args[key] = JSON.parse(value);
    else if (booleanArguments.has(key)) args[key] = value === "true" || value === "1";
    else args[key] = value;
  }
  return args;
}

/**
 * Block Kit's and chat.postMessage's documented limits, answered with the error codes Slack
 * uses: `msg_too_long` for text over 40,000 characters, `invalid_blocks` for a block over its
 * own limit (header 150, section text 3,000, field 2,000, 10 fields, button text 75 and URL
 * 3,000) or more than 50 blocks.
 */
function sizeProblem(args: Record<string, unknown>): string | undefined {
  if (typeof args.text === "string" && args.text.length > 40_000) return "msg_too_long";
  const blocks = Array.isArray(args.blocks) ? (args.blocks as Record<string, unknown>[]) : [];
  if (blocks.length > 50) return "invalid_blocks";
  const over = (value: unknown, max: number) =>
    typeof (value as { text?: unknown })?.text === "string" && (value as { text: string }).text.length > max;
  for (const block of blocks) {
    if (block.type === "header" && over(block.text, 150)) return "invalid_blocks";
    if ((block.type === "section" || block.type === "context") && over(block.text, 3000)) return "invalid_blocks";
    const fields = Array.isArray(block.fields) ? block.fields : [];
    if (fields.length > 10 || fields.some((field) => over(field, 2000))) return "invalid_blocks";
    const elements = Array.isArray(block.elements) ? (block.elements as Record<string, unknown>[]) : [];
    for (const element of elements) {
      if (over(element, 3000)) return "invalid_blocks";
      if (element.type === "button" && (over(element.text, 75) || String(element.url ?? "").length > 3000)) {
        return "invalid_blocks";
      }
    }
  }
  return undefined;
}
