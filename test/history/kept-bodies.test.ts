import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import { everyKey, storyWhen } from "../support/history.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { statusChange } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";

/**
 * What the history keeps of a webhook's body (`history.bodies`), and that `history.enabled:
 * false` keeps nothing at all: a real relay per setting, delivering to an HTTP endpoint that
 * answers 503 when a test wants a failed try.
 */
describe("what the history keeps", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay | undefined;
  let prefix: string;
  let reader: HistoryReader;

  beforeAll(async () => {
    sink = await startHttpSink();
  });
  afterAll(async () => {
    await sink.close();
  });
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
    sink.reset();
  });

  async function start(history: string) {
    prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
history: ${history}
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s, retry: { attempts: 2, backoff: fixed, delay: 50ms } }
routes:
  - { name: everything-to-crm, to: [crm] }
`);
    reader = new HistoryReader(redis.client, historyKeys(prefix));
  }
  async function post(body: unknown, token = "u"): Promise<Response> {
    return fetch(`${relay?.url}/webhooks/socialboards?token=${token}`, { method: "POST", body: JSON.stringify(body) });
  }
  /** Posts a webhook and waits until its delivery is done; `failingOnce`: its first try is answered 503. */
  async function delivered(body: unknown, options: { failingOnce?: boolean } = {}) {
    if (options.failingOnce) sink.respondWith({ status: 503, body: "busy" });
    const answer = await post(body);
    expect(answer.status).toBe(200);
    const { receipt } = (await answer.json()) as { receipt: string };
    await storyWhen(reader, receipt, (s) => s.deliveries[0]?.state === "delivered");
    return { receipt, story: await reader.show(receipt) };
  }
  const bodyKeys = async () =>
    (await everyKey(redis.client, `${prefix}:history:*`)).filter(({ key }) =>
      key.startsWith(`${prefix}:history:body:`),
    );

  it("keeps every webhook's body with bodies: all", async () => {
    await start("{ bodies: all }");
    const body = statusChange(5101, "open", "pending");
    const { story } = await delivered(body);
    expect(story?.body).toEqual(body);
    expect(story?.failedEvents).toBeUndefined();
  });

  it("keeps only the event of a failed try with bodies: failures, and nothing of one delivered at once", async () => {
    await start("{ bodies: failures }");
    const atOnce = await delivered(statusChange(5201, "open", "pending"));
    expect(atOnce.story).not.toHaveProperty("body");
    expect(atOnce.story).not.toHaveProperty("failedEvents");

    const retried = await delivered(statusChange(5202, "open", "pending"), { failingOnce: true });
    expect(retried.story?.deliveries[0]?.steps.map((step) => step.kind)).toEqual(["failed", "retrying", "delivered"]);
    expect(retried.story).not.toHaveProperty("body");
    expect(retried.story?.failedEvents).toEqual([
      expect.objectContaining({
        id: `${retried.receipt}.0`,
        type: "ticket_status_change",
        ticketId: "5202",
        status: "pending",
      }),
    ]);
    expect((await bodyKeys()).map(({ key }) => key)).toEqual([historyKeys(prefix).body(retried.receipt)]);
  });

  it("keeps no body with bodies: none, not even a failed try's", async () => {
    await start("{ bodies: none }");
    const retried = await delivered(statusChange(5301, "open", "pending"), { failingOnce: true });
    expect(retried.story?.deliveries[0]?.steps.map((step) => step.kind)).toEqual(["failed", "retrying", "delivered"]);
    expect(retried.story).not.toHaveProperty("body");
    expect(retried.story).not.toHaveProperty("failedEvents");
    expect(await bodyKeys()).toEqual([]);
  });

  it("writes no history key at all with enabled: false", async () => {
    await start("{ enabled: false, bodies: all }");
    const body = statusChange(5401, "open", "pending");
    sink.respondWith({ status: 503, body: "busy" });
    expect((await post(body)).status).toBe(200);
    expect(await (await post(body)).json()).toMatchObject({ duplicate: true });
    expect((await post(body, "not-the-token")).status).toBe(401);
    await sink.waitForRequests(2);
    await waitForQuietQueues({ url: redis.url, prefix });
    const keys = await everyKey(redis.client, `${prefix}:*`);
    // The relay did write its queues here: the pattern reaches this relay's keys.
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter(({ key }) => key.includes(":history:"))).toEqual([]);
  });
});
