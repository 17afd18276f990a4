import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { RefusedRequest } from "../../src/history/records.js";
import type { WebhookStory } from "../../src/history/story.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { statusChange } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const token = "admin-token-history-7f3b";
const ticket = 4478963;

/**
 * The history's admin API (`/admin/events`, `/admin/tickets`, `/admin/refused`) on the ingest
 * port, over real HTTP, against what a relay delivering to a real HTTP endpoint recorded.
 */
describe("the history's admin API", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;

  beforeAll(async () => {
    sink = await startHttpSink();
  });
  afterEach(async () => {
    await relay?.close();
    sink.reset();
  });
  afterAll(async () => {
    await sink?.close();
  });

  const start = async (history = "") => {
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
admin: { token: "\${RELAY_ADMIN_TOKEN}" }
${history}
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
routes:
  - { name: everything-to-crm, to: [crm] }
`,
      { env: { RELAY_ADMIN_TOKEN: token } },
    );
  };

  const admin = (method: string, path: string, options: { token?: string; body?: unknown } = { token }) =>
    fetch(`${relay.url}${path}`, {
      method,
      headers: {
        ...(options.token !== undefined && { authorization: `Bearer ${options.token}` }),
        ...(options.body !== undefined && { "content-type": "application/json" }),
      },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  const json = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
    const answer = await admin(method, path, { token, body });
    expect(answer.status, `${method} ${path}`).toBe(200);
    return (await answer.json()) as T;
  };

  /** Posts a status change of `ticketId` (the same one twice is a duplicate); answers its receipt id. */
  const post = async (ticketId = ticket, to = "pending"): Promise<string> => {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, {
      method: "POST",
      body: JSON.stringify(statusChange(ticketId, "open", to)),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  };
  /** The story of `receipt` once its every delivery is in `state`. */
  const settled = (receipt: string, state: string) =>
    waitFor(
      async () => {
        const answer = await admin("GET", `/admin/events/${receipt}`);
        if (answer.status !== 200) return undefined;
        const story = (await answer.json()) as WebhookStory & { body?: unknown };
        return story.deliveries.length > 0 && story.deliveries.every((d) => d.state === state) && story;
      },
      { what: `webhook ${receipt} ${state}` },
    );
  const deadLetter = async (ticketId = ticket, to = "pending") => {
    sink.respondWith({ status: 404, body: "no such hook" });
    const receipt = await post(ticketId, to);
    await settled(receipt, "dead");
    return receipt;
  };

  it("answers 401 on each history path without the token", async () => {
    await start();
    for (const [method, path] of [
      ["GET", "/admin/events"],
      ["GET", "/admin/events/some-receipt"],
      ["GET", `/admin/tickets/${ticket}`],
      ["GET", "/admin/refused"],
      ["POST", "/admin/events/replay"],
      ["DELETE", `/admin/tickets/${ticket}`],
    ]) {
      const body = method === "GET" ? undefined : { ticket: String(ticket) };
      const refused = await admin(method as string, path as string, { body });
      expect(refused.status, `${method} ${path}`).toBe(401);
      expect(await refused.json()).toEqual({ error: "send Authorization: Bearer <admin.token>" });
    }
  });

  it("lists delivered webhooks newest first, a page at a time with the cursor", async () => {
    await start();
    const receipts: string[] = [];
    for (const ticketId of [101, 102, 103]) receipts.push(await post(ticketId));
    for (const receipt of receipts) await settled(receipt, "delivered");

    const first = await json<{ webhooks: WebhookStory[]; next?: string }>("GET", "/admin/events?limit=2");
    expect(first.webhooks.map((story) => story.webhook.id)).toEqual([receipts[2], receipts[1]]);
    expect(first.webhooks[0]?.deliveries).toMatchObject([{ target: "crm", state: "delivered" }]);
    expect(first.next).toEqual(expect.any(String));
    const second = await json<{ webhooks: WebhookStory[]; next?: string }>(
      "GET",
      `/admin/events?limit=2&cursor=${first.next}`,
    );
    expect(second.webhooks.map((story) => story.webhook.id)).toEqual([receipts[0]]);
    expect(second.next).toBeUndefined();
  });

  it("filters by outcome, and says what is allowed for a bad outcome, since or cursor", async () => {
    await start();
    const delivered = await post(201);
    await settled(delivered, "delivered");
    const dead = await deadLetter(202);

    const page = await json<{ webhooks: WebhookStory[] }>("GET", "/admin/events?outcome=dead&since=1h");
    expect(page.webhooks.map((story) => story.webhook.id)).toEqual([dead]);
    const byTicket = await json<{ webhooks: WebhookStory[] }>("GET", "/admin/events?ticket=201&target=crm");
    expect(byTicket.webhooks.map((story) => story.webhook.id)).toEqual([delivered]);

    for (const [query, error] of [
      [
        "outcome=gone",
        'outcome is one of delivered, failed, dead, retrying, held, dropped, no-route, duplicate, not "gone"',
      ],
      ["since=yesterday", 'since takes a duration such as "1h" or "7d", not "yesterday"'],
      ["cursor=nope", "cursor is not one this relay gave; start again without it"],
      ["limit=0", 'limit is a whole number from 1 to 1000, not "0"'],
      [
        "status=dead",
        'unknown query parameter "status"; the filters are ticket, source, type, target, outcome, since, limit, cursor',
      ],
    ]) {
      const refused = await admin("GET", `/admin/events?${query}`);
      expect(refused.status, query).toBe(400);
      expect(await refused.json()).toEqual({ error: error });
    }
  });

  it("shows one webhook's deliveries with the HTTP status, and 404 for a receipt it does not know", async () => {
    await start();
    const receipt = await post();
    await settled(receipt, "delivered");

    const story = await json<WebhookStory>("GET", `/admin/events/${receipt}`);
    expect(story.webhook).toMatchObject({ id: receipt, source: "socialboards" });
    expect(story.webhook.events[0]?.routes).toEqual([{ route: "everything-to-crm", decision: "matched", to: ["crm"] }]);
    expect(story.deliveries).toMatchObject([
      { target: "crm", route: "everything-to-crm", steps: [{ kind: "delivered", try: 1, where: { status: 200 } }] },
    ]);

    const unknown = await admin("GET", "/admin/events/no-such-receipt");
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toContain('no webhook "no-such-receipt"');
  });

  it("answers a ticket's timeline oldest first", async () => {
    await start();
    const earlier = await post();
    await settled(earlier, "delivered");
    const later = await post(ticket, "closed");
    await settled(later, "delivered");
    await post(999);

    const timeline = await json<{ ticket: string; webhooks: WebhookStory[] }>("GET", `/admin/tickets/${ticket}`);
    expect(timeline.ticket).toBe(String(ticket));
    expect(timeline.webhooks.map((story) => story.webhook.id)).toEqual([earlier, later]);
  });

  it("lists a request refused for a wrong token, without the token", async () => {
    await start();
    const wrong = "wrong-url-token-81c4";
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=${wrong}`, {
      method: "POST",
      body: JSON.stringify(statusChange(ticket, "open", "pending")),
    });
    expect(answer.status).toBe(401);

    const refused = await waitFor(async () => {
      const { refused } = await json<{ refused: RefusedRequest[] }>("GET", "/admin/refused?source=socialboards");
      return refused.length > 0 && refused;
    });
    expect(refused).toMatchObject([{ source: "socialboards", method: "POST", status: 401 }]);
    expect(refused[0]?.reason).toMatch(/token/);
    expect(JSON.stringify(refused)).not.toContain(wrong);
    expect(await json("GET", "/admin/refused?source=other")).toEqual({ refused: [] });
  });

  it("counts a dead letter on a dry run and queues nothing, then replays it and it is delivered", async () => {
    await start();
    const receipt = await deadLetter();
    expect(sink.requests).toHaveLength(1);

    const dryRun = await json<{ wouldReplay: number; replays: { how: string }[] }>("POST", "/admin/events/replay", {
      outcome: "dead",
      since: "1h",
      dryRun: true,
    });
    expect(dryRun).toMatchObject({
      dryRun: true,
      wouldReplay: 1,
      replays: [{ receipt, target: "crm", how: "dead letter" }],
      cannot: [],
      unknown: [],
    });
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(1);

    const replayed = await json("POST", "/admin/events/replay", { receipts: [receipt, "no-such-receipt"] });
    expect(replayed).toMatchObject({ replayed: 1, replays: [{ receipt }], cannot: [], unknown: ["no-such-receipt"] });
    await sink.waitForRequests(2);
    const story = await settled(receipt, "delivered");
    expect(story.deliveries[0]?.steps.map((step) => step.kind)).toEqual(["failed", "dead", "replayed", "delivered"]);
  });

  it("refuses a replay that names neither receipts nor a ticket, target or outcome", async () => {
    await start();
    const refused = await admin("POST", "/admin/events/replay", { token, body: { since: "1h" } });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: string }).error).toContain('{"receipts": ["<receipt id>", …]}');
  });

  it("forgets a ticket: the DELETE says what it removed, and its timeline is empty after", async () => {
    await start();
    const receipt = await post();
    await settled(receipt, "delivered");
    await deadLetter(ticket, "closed");

    const forgotten = await json<{ ticket: string; forgotten: { webhooks: number; deadLetters: number } }>(
      "DELETE",
      `/admin/tickets/${ticket}`,
    );
    expect(forgotten).toMatchObject({ ticket: String(ticket), forgotten: { webhooks: 2, deadLetters: 1 } });
    expect(await json("GET", `/admin/tickets/${ticket}`)).toEqual({ ticket: String(ticket), webhooks: [] });
    expect((await admin("GET", `/admin/events/${receipt}`)).status).toBe(404);
  });

  it("answers 503 while Redis is away, so the caller can try again", async () => {
    await start();
    await redis.stop();
    try {
      for (const [method, path, body] of [
        ["GET", "/admin/events?outcome=dead"],
        ["GET", "/admin/events/0193a4f2-0000-7000-8000-000000000000"],
        ["GET", "/admin/refused"],
        ["GET", `/admin/tickets/${ticket}`],
        ["POST", "/admin/events/replay", { ticket: String(ticket) }],
        ["DELETE", `/admin/tickets/${ticket}`],
      ] as const) {
        const answer = await admin(method, path, { token, body });
        expect(answer.status, `${method} ${path}`).toBe(503);
        expect(await answer.json()).toEqual({ error: "Redis is unreachable; try again" });
      }
    } finally {
      await redis.start();
    }
  });

  it("says to turn on history.enabled when the history is off", async () => {
    await start("history: { enabled: false }");
    for (const [method, path] of [
      ["GET", "/admin/events"],
      ["GET", `/admin/tickets/${ticket}`],
      ["GET", "/admin/refused"],
      ["POST", "/admin/events/replay"],
      ["DELETE", `/admin/tickets/${ticket}`],
    ]) {
      const answer = await admin(method as string, path as string);
      expect(answer.status, `${method} ${path}`).toBe(404);
      expect(((await answer.json()) as { error: string }).error).toContain("history.enabled: true");
    }
  });
});
