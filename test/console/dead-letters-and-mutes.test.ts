import type { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import type { DeliveryJob } from "../../src/queue/jobs.js";
import { openDeliveryQueue } from "../../src/queue/queues.js";
import { type ConsoleSession, consoleSession, doneText } from "../support/console-session.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { statusChange } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const token = "console-dlq-token-81c4";

/**
 * The console's Dead letters and Mutes pages over HTTP, against a real relay delivering to an
 * HTTP endpoint: what they list, and that each button does what `dlq replay|purge`, `mute` and
 * `unmute` do.
 */
describe("the console's dead letters and mutes", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let queue: Queue<DeliveryJob>;
  let session: ConsoleSession;

  beforeAll(async () => {
    sink = await startHttpSink();
  });
  afterAll(async () => {
    await sink.close();
  });
  afterEach(async () => {
    await relay?.close();
    await queue?.close();
    sink.reset();
  });

  async function start(): Promise<void> {
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
admin: { token: "${token}" }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
routes:
  - { name: everything-to-crm, to: [crm] }
`);
    queue = openDeliveryQueue(relay.config.redis);
    session = await consoleSession(relay.url, token);
  }

  /** Posts a status change of `ticket`; its receipt id. */
  async function post(ticket: number): Promise<string> {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, {
      method: "POST",
      body: JSON.stringify(statusChange(ticket, "open", "pending")),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }

  const logged = (message: string) =>
    relay.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === message);

  it("lists two dead letters, replays the one ticked to the endpoint, purges the rest, and takes no POST without the CSRF token", async () => {
    await start();
    sink.respondWith({ status: 400, body: "unknown field" }, { status: 400, body: "unknown field" });
    const receipts = [await post(7001), await post(7002)];
    await waitFor(async () => (await queue.getFailedCount()) === 2, { what: "2 dead letters" });
    const ids = receipts.map((receipt) => `${receipt}.0.crm`);

    const listed = await session.page("/console/dead-letters");
    expect(listed).toContain("2 dead letters");
    for (const [i, id] of ids.entries()) {
      expect(listed).toContain(`<input type="checkbox" name="id" value="${id}"`);
      expect(listed).toContain(`<a href="/console/events/${receipts[i]}">${id}</a>`);
      expect(listed).toContain(`<a href="/console/tickets/${7001 + i}">${7001 + i}</a>`);
    }
    expect(listed).toContain("answered 400: unknown field");
    expect(listed).toContain('data-select-all="id"');
    expect(await session.page("/console/dead-letters?target=crm&since=1h")).toContain("2 dead letters");
    expect(await session.page("/console/dead-letters?target=gone")).toContain("0 dead letters");

    for (const path of ["/console/dead-letters/replay", "/console/dead-letters/purge"]) {
      const refused = await session.post(path, { id: ids, scope: "filter" }, { csrf: false });
      expect(refused.status, path).toBe(403);
    }
    expect(await queue.getFailedCount()).toBe(2);

    // The endpoint is fixed: the replayed one is delivered, under its own delivery id.
    const replayed = await session.post("/console/dead-letters/replay", { id: [ids[0] as string, "no-such-id"] });
    expect(replayed.status).toBe(303);
    expect(replayed.headers.get("location")).toMatch(/^\/console\/dead-letters\?done=/);
    expect(doneText(replayed)).toBe(
      "replayed 1 dead letter; 1 not found (delivered, replayed or purged meanwhile): no-such-id",
    );
    const [, , again] = await sink.waitForRequests(3);
    expect(again?.json).toMatchObject({ deliveryId: ids[0] });
    await waitFor(async () => (await queue.getFailedCount()) === 1, { what: "the replayed one to leave the list" });
    const after = await session.page("/console/dead-letters");
    expect(after).toContain("1 dead letter");
    expect(after).not.toContain(`value="${ids[0]}"`);
    expect(after).toContain(`value="${ids[1]}"`);
    expect(logged("dead letters replayed from the console")).toMatchObject([
      { from: "console", ids: [ids[0], "no-such-id"], replayed: 1 },
    ]);

    const purged = await session.post("/console/dead-letters/purge", { scope: "filter", target: "", since: "" });
    expect(doneText(purged)).toBe("purged 1 dead letter");
    expect(await queue.getFailedCount()).toBe(0);
    expect(await session.page("/console/dead-letters")).toContain("0 dead letters");
    expect(logged("dead letters purged from the console")).toMatchObject([{ from: "console", all: true, purged: 1 }]);
    expect(sink.requests).toHaveLength(3);

    // The history has both: the replay on the delivery's own story, the actions in the overview.
    const reader = new HistoryReader(redis.client, historyKeys(relay.config.redis.prefix));
    const story = await waitFor(async () => {
      const found = await reader.show((ids[0] as string).split(".")[0] as string);
      const steps = found?.deliveries[0]?.steps.map((step) => step.kind) ?? [];
      return steps.at(-1) === "delivered" && found;
    });
    expect(story.deliveries[0]?.steps.map((step) => step.kind)).toEqual(["failed", "dead", "replayed", "delivered"]);
    expect(story.deliveries[0]?.steps[2]).toMatchObject({ kind: "replayed", from: "console" });
    const overview = await session.page("/console");
    expect(overview).toContain("Recent actions");
    expect(overview).toContain("dead letters replayed");
    expect(overview).toContain("dead letters purged");
  });

  it("mutes a target from the page, holding what comes meanwhile, and sends it when the mute is ended there", async () => {
    await start();
    const form = await session.page("/console/mutes");
    expect(form).toContain("Nothing is muted.");
    expect(form).toContain('<option value="target:crm">crm</option>');
    expect(form).toContain('<option value="route:everything-to-crm">everything-to-crm</option>');

    const muted = await session.post("/console/mutes", {
      subject: "target:crm",
      for: "1h",
      forOther: "",
      reason: "CRM <maintenance>",
    });
    expect(muted.status).toBe(303);
    expect(doneText(muted)).toBe("muted target crm for 1h; its deliveries are held, and sent when it ends");
    await post(7101);
    const listed = await waitFor(
      async () => {
        const page = await session.page("/console/mutes");
        return page.includes("1 held") && page;
      },
      { what: "the mutes page to show one held delivery" },
    );
    expect(listed).toContain("CRM &#60;maintenance&#62;");
    expect(listed).toContain("End mute");
    expect(sink.requests).toHaveLength(0);
    expect(logged("mute set from the console")).toMatchObject([
      { from: "console", kind: "target", name: "crm", reason: "CRM <maintenance>", drop: false },
    ]);

    const ended = await session.post("/console/mutes/end", { kind: "target", name: "crm" });
    expect(ended.headers.get("location")).toMatch(/^\/console\/mutes\?done=/);
    expect(doneText(ended)).toBe("ended the mute of target crm: 1 held delivery sent now");
    const [arrived] = await sink.waitForRequests(1);
    expect(arrived?.json).toMatchObject({ event: { ticketId: "7101" } });
    expect(await session.page("/console/mutes")).toContain("Nothing is muted.");
    expect(logged("mute ended from the console")).toMatchObject([{ kind: "target", name: "crm", released: 1 }]);
  });

  it("mutes a route for a typed length, goes back to the page it was asked from, and refuses what it cannot do", async () => {
    await start();
    const muted = await session.post("/console/mutes", {
      subject: "route:everything-to-crm",
      for: "1h",
      forOther: "90m",
      drop: "yes",
      back: "/console?x=1",
    });
    expect(muted.headers.get("location")).toMatch(/^\/console\?x=1&done=/);
    expect(doneText(muted)).toBe("muted route everything-to-crm for 90m; its deliveries are dropped");
    const page = await session.page("/console/mutes");
    expect(page).toContain("everything-to-crm");
    expect(page).toContain('<span class="badge dropped">dropped</span>');

    const unknown = await session.post("/console/mutes", { subject: "target:cmr", for: "1h" });
    expect(unknown.status).toBe(400);
    expect(await unknown.text()).toContain("no target &#34;cmr&#34; in the config");
    const noLength = await session.post("/console/mutes", { subject: "target:crm", for: "", forOther: "soon" });
    expect(noLength.status).toBe(400);
    expect(await noLength.text()).toContain("a mute lasts a duration such as 15m, 90m, 4h or 2d");
    const elsewhere = await session.post("/console/mutes/end", {
      kind: "route",
      name: "everything-to-crm",
      back: "https://example.com/",
    });
    expect(elsewhere.headers.get("location")).toMatch(/^\/console\/mutes\?done=/);
    expect(doneText(elsewhere)).toBe("ended the mute of route everything-to-crm: 0 held deliveries sent now");
    expect((await session.post("/console/mutes/end", { kind: "ticket", name: "crm" })).status).toBe(400);
  });
});
