import { replyCreation, ticketCreation } from "../../support/ticket-events.js";

/** What the scale suite posts: Socialboards webhooks as the platform sends them, one ticket each. */

export const urlToken = "url-5c0e71ad";
export const slackToken = () => ["fake", "slack", "token", "for", "scale", "tests"].join("-");

/** A ticket's creation (`replyId` undefined) or one reply on it, moved to `ticketId`. */
export function ticketEvent(ticketId: number, replyId?: number): unknown {
  return replyId === undefined ? ticketCreation(ticketId) : replyCreation(ticketId, replyId);
}

/**
 * Posts a webhook the way the platform does: again after a 503 or a refused connection, until
 * it gets a 200 or `giveUpAfterMs` passes. Resolves true once it was accepted.
 */
export async function postUntilAccepted(ingestUrl: string, body: unknown, giveUpAfterMs = 60_000): Promise<boolean> {
  const until = Date.now() + giveUpAfterMs;
  while (Date.now() < until) {
    const status = await fetch(`${ingestUrl}/webhooks/socialboards?token=${urlToken}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    }).then(
      (response) => response.status,
      () => 0,
    );
    if (status === 200) return true;
    if (status !== 503 && status !== 0) throw new Error(`ingest answered ${status}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return false;
}

/** Runs `work` over `items`, `parallel` at a time. */
export async function inParallel<T>(
  items: readonly T[],
  parallel: number,
  work: (item: T, index: number) => Promise<void>,
) {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < items.length) {
        const index = next++;
        await work(items[index] as T, index);
      }
    }),
  );
}

/**
 * The relay's config for a scale test: every event to the HTTP sink; `extra` adds targets and
 * routes (YAML lines, indented as under `targets:` and `routes:`), which come first.
 */
export function scaleConfig(
  redisYaml: string,
  sinkUrl: string,
  extra: { targets?: string; routes?: string } = {},
): string {
  const indent = (text: string) =>
    text
      .trim()
      .split("\n")
      .map((line) => `  ${line}`)
      .join("\n");
  return `
redis:
${indent(redisYaml)}
server: { port: 0, host: 127.0.0.1 }
allowPrivateNetwork: true
workers: { concurrency: 20, lockDuration: 15s, stalledInterval: 2s }
sources:
  socialboards: { type: socialboards, verifyToken: verify-3a9c0d2e, urlToken: ${urlToken} }
targets:
  sink: { type: http, url: "${sinkUrl}/hooks", timeout: 15s }
${extra.targets ? indent(extra.targets) : ""}
retry: { attempts: 20, backoff: exponential, delay: 100ms, maxDelay: 2s }
routes:
${extra.routes ? indent(extra.routes) : ""}
  - name: everything
    to: [sink]
`;
}

/** How many times each delivery id reached the sink (its `webhook-id` header). */
export function deliveriesById(requests: { headers: Record<string, string | string[] | undefined> }[]) {
  const counts = new Map<string, number>();
  for (const request of requests) {
    const id = String(request.headers["webhook-id"] ?? "");
    counts.set(id, (counts.get(id) ?? 0) + 1);
  }
  return counts;
}
