import { readFileSync } from "node:fs";
import type { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { HistoryTools } from "../../src/history/history-tools.js";
import type { DeliveryJob } from "../../src/queue/jobs.js";
import { Mutes } from "../../src/queue/mutes.js";
import { openDeliveryQueue, relayKeys } from "../../src/queue/queues.js";
import { everyKey, openHistoryTools, storyWhen } from "../support/history.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/**
 * What the history says of webhooks that were not sent at once, or not taken: a delivery held
 * by a mute, a request refused for its token, the same body posted again. A real relay with
 * an HTTP endpoint, on a Redis of its own.
 */
describe("held, refused and duplicate webhooks in the history", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let history: { tools: HistoryTools; close(): Promise<void> };
  let queue: Queue<DeliveryJob>;

  beforeAll(async () => {
    sink = await startHttpSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  beforeEach(async () => {
    const prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u, dedupe: { window: 1h } } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
routes:
  - { name: everything-to-crm, to: [crm] }
`);
    history = openHistoryTools(redis.client, relay.config);
    queue = openDeliveryQueue(relay.config.redis);
  });
  afterEach(async () => {
    await relay.close();
    await Promise.all([history.close(), queue.close()]);
    sink.reset();
  });

  const post = (body: string, token = "u") =>
    fetch(`${relay.url}/webhooks/socialboards?token=${token}`, { method: "POST", body });
  async function accepted(body: string): Promise<string> {
    const answer = await post(body);
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }

  it("shows a muted delivery held until the mute's end, then delivered once unmuted", async () => {
    const mutes = new Mutes(redis.client, relayKeys(relay.config.redis.prefix), queue);
    // Under the 5 minutes after which a held delivery looks again: its hold ends with the mute.
    const { mute } = await mutes.mute({ kind: "target", name: "crm" }, { forMs: 60_000, reason: "maintenance" });
    const receipt = await accepted(statusChange);
    const { reader } = history.tools;
    const held = await storyWhen(reader, receipt, (s) => s.deliveries[0]?.state === "held");
    expect(held.deliveries[0]?.steps).toEqual([
      expect.objectContaining({ kind: "held", by: "mute", until: Date.parse(mute.until) }),
    ]);
    expect(held.deliveries[0]?.steps[0]).toMatchObject({ why: expect.stringContaining("target:crm") });
    expect((await reader.list({ outcome: "held" })).webhooks.map((w) => w.webhook.id)).toEqual([receipt]);
    expect(sink.requests).toHaveLength(0);

    await mutes.unmute({ kind: "target", name: "crm" });
    const delivered = await storyWhen(reader, receipt, (s) => s.deliveries[0]?.state === "delivered");
    expect(delivered.deliveries[0]?.steps.map((step) => step.kind)).toEqual(["held", "delivered"]);
    expect(delivered.deliveries[0]?.steps[1]).toMatchObject({ try: 1, where: { status: 200 } });
    expect((await reader.list({ outcome: "held" })).webhooks).toEqual([]);
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(1);
  });

  it("lists a request with a wrong token under refused, with its reason and client, and keeps the token nowhere", async () => {
    const wrongToken = `rotated-away-${process.pid}-${Date.now()}`;
    const answer = await post(statusChange, wrongToken);
    expect(answer.status).toBe(401);
    const refused = await waitFor(async () => {
      const listed = await history.tools.refused("socialboards");
      return listed.length > 0 ? listed : undefined;
    });
    expect(refused).toEqual([
      {
        at: expect.any(String),
        source: "socialboards",
        method: "POST",
        status: 401,
        reason: "urlToken does not match (?token=… in the URL)",
        client: "127.0.0.1",
      },
    ]);
    expect(Date.now() - Date.parse(refused[0]?.at ?? "")).toBeLessThan(10_000);
    // Every source's, as `events refused` without --source lists them.
    expect(await history.tools.refused()).toEqual(refused);
    // Nothing of the request was routed, and its token is in no key's name or value.
    expect((await history.tools.reader.list()).webhooks).toEqual([]);
    const keys = await everyKey(redis.client);
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.filter(({ key, text }) => key.includes(wrongToken) || text.includes(wrongToken))).toEqual([]);
  });

  it("counts the same body posted again as a duplicate on the original", async () => {
    const receipt = await accepted(statusChange);
    const { reader } = history.tools;
    // The count goes on the original's record, so it must be written first.
    await storyWhen(reader, receipt, (s) => s.deliveries[0]?.state === "delivered");
    const again = await post(statusChange);
    expect(again.status).toBe(200);
    expect(await again.json()).toMatchObject({ duplicate: true });
    const story = await storyWhen(reader, receipt, (s) => s.duplicates > 0);
    expect(story.duplicates).toBe(1);
    expect(story.deliveries).toHaveLength(1);
    expect((await reader.list({ outcome: "duplicate" })).webhooks.map((w) => w.webhook.id)).toEqual([receipt]);
    expect((await reader.list()).webhooks.map((w) => w.webhook.id)).toEqual([receipt]);
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(1);
  });
});
