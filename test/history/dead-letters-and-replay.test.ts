import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { HistoryTools } from "../../src/history/history-tools.js";
import { openDeliveryQueue } from "../../src/queue/queues.js";
import { openHistoryTools, storyWhen } from "../support/history.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/**
 * A delivery that gave up, as `events show` tells it, and `events replay --outcome dead` (dry
 * run, then for real) on it: a real relay against an HTTP endpoint that answers 503 twice.
 */
describe("a dead letter in the history", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let history: { tools: HistoryTools; close(): Promise<void> };

  beforeAll(async () => {
    sink = await startHttpSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  beforeEach(async () => {
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s, retry: { attempts: 2, backoff: fixed, delay: 50ms } }
routes:
  - { name: everything-to-crm, to: [crm] }
`);
    history = openHistoryTools(redis.client, relay.config);
  });
  afterEach(async () => {
    await relay.close();
    await history.close();
    sink.reset();
  });

  async function post(body: string): Promise<string> {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, { method: "POST", body });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }

  it("keeps each try of a dead letter, counts it in a dry run, and shows it replayed then delivered", async () => {
    sink.respondWith({ status: 503, body: "down for maintenance" }, { status: 503, body: "still down" });
    const receipt = await post(statusChange);
    const { reader, replays } = history.tools;
    const dead = await storyWhen(reader, receipt, (s) => s.deliveries[0]?.state === "dead");
    const [crm] = dead.deliveries;
    expect(crm?.steps.map((step) => step.kind)).toEqual(["failed", "retrying", "failed", "dead"]);
    expect(crm?.steps[0]).toMatchObject({ try: 1, answer: { status: 503, excerpt: "down for maintenance" } });
    expect(crm?.steps[2]).toMatchObject({ try: 2, answer: { status: 503, excerpt: "still down" } });
    expect((await reader.list({ outcome: "dead" })).webhooks.map((w) => w.webhook.id)).toEqual([receipt]);
    await waitForQuietQueues(relay.config.redis);

    // The dry run counts it and queues nothing.
    const plan = await replays.plan({ outcome: "dead" });
    expect(plan.cannot).toEqual([]);
    expect(plan.replays).toEqual([
      expect.objectContaining({ receipt, delivery: crm?.id, target: "crm", how: "dead letter" }),
    ]);
    const queue = openDeliveryQueue(relay.config.redis);
    try {
      expect(await queue.getJobCounts("wait", "active", "delayed", "failed")).toEqual({
        wait: 0,
        active: 0,
        delayed: 0,
        failed: 1,
      });
    } finally {
      await queue.close();
    }
    expect(sink.requests).toHaveLength(2);

    expect(await replays.replay(plan, "test")).toEqual({ replayed: 1, cannot: [] });
    await sink.waitForRequests(3);
    const replayed = await storyWhen(reader, receipt, (s) => s.deliveries[0]?.state === "delivered");
    expect(replayed.deliveries).toHaveLength(1);
    expect(replayed.deliveries[0]?.steps.map((step) => step.kind)).toEqual([
      "failed",
      "retrying",
      "failed",
      "dead",
      "replayed",
      "delivered",
    ]);
    expect(replayed.deliveries[0]?.steps[4]).toMatchObject({ kind: "replayed", from: "test" });
    expect(replayed.deliveries[0]?.steps[5]).toMatchObject({ where: { status: 200 } });
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(3);
    expect((await reader.list({ outcome: "dead" })).webhooks).toEqual([]);
    expect((await replays.plan({ outcome: "dead" })).replays).toEqual([]);
  });
});
