import { randomInt } from "node:crypto";
import { createServer } from "node:http";
import { closeServer, listen, readBody } from "./listen.js";
import { waitForCount } from "./wait.js";

/** The arguments of one successful `chat.postMessage`, decoded as Slack decodes them. */
export interface SlackPost {
  channel: string;
  text?: string;
  blocks?: unknown[];
  [argument: string]: unknown;
}

export type SlackFailure = "ratelimited" | "server_error" | "channel_not_found" | "invalid_auth";

export interface SlackApiServer {
  /** Base URL to give `@slack/web-api` as `slackApiUrl` (ends in `/api/`). */
  url: string;
  posts: SlackPost[];
  /** Every `chat.postMessage` call received, successful or not. */
  calls: number;
  /** The next calls fail like this, in order. */
  failNext(...failures: SlackFailure[]): void;
  waitForPosts(count: number, timeoutMs?: number): Promise<SlackPost[]>;
  /** Forgets posts, calls and failures not yet used, between tests. */
  reset(): void;
  close(): Promise<void>;
}

/**
 * A local stand-in for slack.com/api that answers `chat.postMessage` with the shapes, status
 * codes and headers the real Web API uses (`ok: false` with an error code at HTTP 200, 429 with
 * `Retry-After` when rate limited), so the real `@slack/web-api` client is what gets tested.
 */
export async function startSlackApi(options: { token: string; channels?: string[] }): Promise<SlackApiServer> {
  const posts: SlackPost[] = [];
  const failures: SlackFailure[] = [];
  const state = { calls: 0 };

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    const reply = (status: number, payload: unknown, headers: Record<string, string> = {}) => {
      response.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
      response.end(JSON.stringify(payload));
    };
    const method = new URL(request.url ?? "/", "http://slack").pathname.replace(/^\/api\//, "");
    if (method !== "chat.postMessage") return reply(200, { ok: false, error: "unknown_method" });
    state.calls += 1;

    const args = decodeArguments(request.headers["content-type"] ?? "", body);
    const token = request.headers.authorization?.replace(/^Bearer /, "") ?? args.token;
    if (token !== options.token) return reply(200, { ok: false, error: "invalid_auth" });

    const failure = failures.shift();
    if (failure === "ratelimited") return reply(429, { ok: false, error: "ratelimited" }, { "retry-after": "1" });
    if (failure === "server_error") return reply(500, { ok: false, error: "internal_error" });
    if (failure) return reply(200, { ok: false, error: failure });

    const channel = String(args.channel ?? "");
    if (!channel) return reply(200, { ok: false, error: "channel_not_found" });
    if (options.channels && !options.channels.includes(channel))
      return reply(200, { ok: false, error: "channel_not_found" });
    if (!args.text && !args.blocks) return reply(200, { ok: false, error: "no_text" });

    const post = { ...args, channel } as SlackPost;
    delete post.token;
    posts.push(post);
    const ts = `${Math.floor(Date.now() / 1000)}.${String(randomInt(1_000_000)).padStart(6, "0")}`;
    reply(200, { ok: true, channel: "C0123456789", ts, message: { type: "message", text: post.text, ts } });
  });

  const url = `${await listen(server)}/api/`;
  return {
    url,
    posts,
    get calls() {
      return state.calls;
    },
    failNext: (...next) => failures.push(...next),
    waitForPosts: (count, timeoutMs) => waitForCount(posts, count, "Slack posts", timeoutMs),
    reset() {
      posts.length = 0;
      failures.length = 0;
      state.calls = 0;
    },
    close: () => closeServer(server),
  };
}

/** Slack takes form-encoded arguments (objects such as `blocks` as JSON strings) or a JSON body. */
function decodeArguments(contentType: string, body: string): Record<string, unknown> {
  if (contentType.startsWith("application/json")) return JSON.parse(body || "{}");
  const args: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(body)) {
    args[key] = key === "blocks" || key === "attachments" || key === "metadata" ? JSON.parse(value) : value;
  }
  return args;
}
