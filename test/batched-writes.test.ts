import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { BatchedAdd } from "../src/queue/batched-add.js";
import { SentMarks } from "../src/queue/delivery/sent-marks.js";
import { Intake } from "../src/queue/inbound/intake.js";
import { WebhookStream } from "../src/queue/inbound/webhook-stream.js";
import { relayKeys } from "../src/queue/queues.js";
import { createIngestConnection } from "../src/redis/connections.js";
import { startRedisServer } from "./support/redis.js";
import { uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { storedWebhooks } from "./support/webhook-stream.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/** Writes made at the same moment share one Redis round trip, and each still gets its own answer. */
describe("writes gathered into one round trip", () => {
  const redis = useRedis();

  it("answers each of many webhooks arriving together for itself: stored once, or a duplicate", async () => {
    const prefix = uniquePrefix();
    const connection = createIngestConnection(redis.url);
    const intake = new Intake(connection, new WebhookStream(connection, relayKeys(prefix)), {
      dedupWindowMs: () => 60_000,
    });
    const inbound = storedWebhooks(redis.url, prefix);
    try {
      await intake.waitUntilReady(5000);
      const bodies = Array.from({ length: 40 }, (_, index) => statusChange.replace("Cat is ill", `Cat ${index}`));
      // Every body once, and the first ten a second time in the same moment: the sender's retries.
      const posted = [...bodies, ...bodies.slice(0, 10)].map((body, index) =>
        intake.accept({
          receipt: { id: `r${index}`, source: "socialboards", receivedAt: new Date().toISOString() },
          payload: JSON.parse(body),
          rawBody: Buffer.from(body),
        }),
      );
      const answers = await Promise.all(posted);
      expect(answers.slice(0, 40)).toEqual(Array(40).fill("stored"));
      expect(answers.slice(40)).toEqual(Array(10).fill("duplicate"));
      expect(await inbound.count()).toBe(40);
    } finally {
      await inbound.close();
      connection.disconnect();
    }
  });

  it("adds a routed webhook's deliveries in order, and more than one bulk's worth of them", async () => {
    const prefix = uniquePrefix();
    const queue = new Queue<{ n: number }>("delivery", { connection: { url: redis.url }, prefix });
    try {
      const adds = new BatchedAdd(queue);
      const many = Array.from({ length: 1200 }, (_, n) => ({ name: "t", data: { n }, opts: { jobId: `big.${n}` } }));
      const few = Array.from({ length: 3 }, (_, n) => ({ name: "t", data: { n }, opts: { jobId: `small.${n}` } }));
      const [manyIds, fewIds] = await Promise.all([adds.addAll(many), adds.addAll(few)]);
      expect(manyIds).toEqual(many.map((job) => job.opts.jobId));
      expect(fewIds).toEqual(["small.0", "small.1", "small.2"]);
      expect(await queue.getWaitingCount()).toBe(1203);
    } finally {
      await queue.close();
    }
  });

  it("keeps the sent mark of every delivery that finished at the same moment", async () => {
    const marks = new SentMarks(redis.client, relayKeys(uniquePrefix()));
    const ids = Array.from({ length: 200 }, (_, index) => `event${index}.crm`);
    await Promise.all(ids.map((id) => marks.write(marks.markOf(id, `HTTP 200 for ${id}`))));
    const found = await Promise.all(ids.map((id) => marks.find(id)));
    expect(found).toEqual(ids.map((id) => `HTTP 200 for ${id}`));
  });

  it("fails every caller of a gathered write when Redis is gone, and none is left waiting", async () => {
    const own = await startRedisServer();
    const gone = new Redis(own.url, { enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    gone.on("error", () => undefined);
    const queue = new Queue<{ n: number }>("delivery", { connection: gone, prefix: uniquePrefix() });
    queue.on("error", () => undefined);
    try {
      await queue.waitUntilReady();
      await own.stop();
      const adds = new BatchedAdd(queue);
      const tries = [1, 2, 3].map((n) => adds.add({ name: "t", data: { n } }));
      const settled = await Promise.allSettled(tries);
      expect(settled.map((result) => result.status)).toEqual(["rejected", "rejected", "rejected"]);
    } finally {
      await queue.close().catch(() => undefined);
      gone.disconnect();
    }
  });
});
