import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { WebhookStream } from "../src/queue/inbound/webhook-stream.js";
import { WebhookStreamConsumer } from "../src/queue/inbound/webhook-stream-consumer.js";
import { inboundQueueName } from "../src/queue/jobs.js";
import { relayKeys } from "../src/queue/queues.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { type RedisServer, startRedisServer } from "./support/redis.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { waitFor } from "./support/wait.js";

const statusChange = JSON.parse(
  readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8"),
);

const receipt = (id: string, source = "socialboards") => ({ id, source, receivedAt: new Date().toISOString() });

/**
 * Webhooks wait for routing in a Redis stream; what the stream lane cannot finish (a worker
 * that stopped mid-way, a routing error) goes on through the inbound queue, never lost.
 */
describe("routing webhooks from the webhook stream", () => {
  let redis: RedisServer;
  let client: Redis;
  let sink: HttpSink;

  beforeAll(async () => {
    [redis, sink] = await Promise.all([startRedisServer(), startHttpSink()]);
    client = new Redis(redis.url);
  });

  afterAll(async () => {
    client?.disconnect();
    await sink?.close();
    await redis?.stop();
  });

  /** A worker with short lock and sweep times, so that a stale webhook is taken over within a second or two. */
  const startWorker = (prefix: string): Promise<TestRelay> =>
    startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
workers: { lockDuration: 1s, stalledInterval: 500ms }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/stream" }
routes:
  - match: { source: socialboards }
    to: [crm]
`,
      { role: "worker" },
    );

  /**
   * Stores one webhook and has a worker of the group read it, on a connection of its own: it
   * is then pending under that worker's name until the worker marks it routed.
   */
  async function storedAndRead(prefix: string, receiptId: string) {
    const consumer = new WebhookStreamConsumer(client, relayKeys(prefix));
    await consumer.ensureGroup();
    await new WebhookStream(client, relayKeys(prefix)).store({ receipt: receipt(receiptId), payload: statusChange });
    const reader = new Redis(redis.url);
    try {
      const [read] = await consumer.read(reader, 10, 100);
      return { consumer, read };
    } finally {
      reader.disconnect();
    }
  }

  it("delivers webhooks stored before any worker ever ran, and leaves the stream empty", async () => {
    const prefix = uniquePrefix();
    const stream = new WebhookStream(client, relayKeys(prefix));
    for (const id of ["early-1", "early-2"]) {
      expect(await stream.store({ receipt: receipt(id), payload: statusChange })).toBe("stored");
    }
    const relay = await startWorker(prefix);
    try {
      await waitFor(() => ["early-1", "early-2"].every((id) => sink.requests.some((r) => r.body.includes(id))), {
        what: "both early webhooks delivered",
      });
      await waitFor(async () => (await client.xlen(relayKeys(prefix).webhooks)) === 0, { what: "the stream emptied" });
    } finally {
      await relay.close();
    }
  });

  it("takes over a webhook a stopped worker had read but not routed, and delivers it once", async () => {
    const prefix = uniquePrefix();
    // A worker reads it, then dies before routing it: it stays pending under that worker's name.
    const { read } = await storedAndRead(prefix, "orphan");
    expect(read?.webhook?.receipt.id).toBe("orphan");

    const relay = await startWorker(prefix);
    try {
      await waitFor(() => sink.requests.some((r) => r.body.includes("orphan")), {
        what: "the orphaned webhook delivered",
        timeoutMs: 10_000,
      });
      expect(relay.logs.some((line) => line.includes("took over webhooks a stopped worker had read"))).toBe(true);
      await waitFor(async () => (await client.xlen(relayKeys(prefix).webhooks)) === 0, { what: "the stream emptied" });
      expect(sink.requests.filter((r) => r.body.includes("orphan"))).toHaveLength(1);
    } finally {
      await relay.close();
    }
  });

  it("does not let a webhook a live worker still has in hand be taken over, however long it takes", async () => {
    const prefix = uniquePrefix();
    const { consumer: live, read } = await storedAndRead(prefix, "slow");
    await new Promise((resolve) => setTimeout(resolve, 300));
    await live.keepClaimed([read?.streamId ?? ""]);
    const other = new WebhookStreamConsumer(client, relayKeys(prefix));
    expect((await other.claimStale(250, 10, "0-0")).stale).toEqual([]);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Not kept any more: now it is stale, and another worker takes it.
    expect((await other.claimStale(250, 10, "0-0")).stale.map(({ webhook }) => webhook?.receipt.id)).toEqual(["slow"]);
  });

  it("hands a webhook whose routing fails to the inbound queue, where it is kept failed to look into", async () => {
    const prefix = uniquePrefix();
    const stream = new WebhookStream(client, relayKeys(prefix));
    // Stored while a source "retired" was configured; the worker's config no longer has it.
    await stream.store({ receipt: receipt("orphaned-source", "retired"), payload: statusChange });
    const relay = await startWorker(prefix);
    const inbound = new Queue(inboundQueueName, { connection: { url: redis.url }, prefix });
    try {
      const failed = await waitFor(async () => (await inbound.getFailed())[0], { what: "the failed routing job" });
      expect(failed.id).toBe("orphaned-source");
      expect(failed.failedReason).toContain('source "retired" is not in the config any more');
      expect(await client.xlen(relayKeys(prefix).webhooks)).toBe(0);
      expect(relay.logs.some((line) => line.includes("the webhook goes to the inbound queue"))).toBe(true);
    } finally {
      await inbound.close();
      await relay.close();
    }
  });

  it("goes on routing after Redis lost its data, stream and consumer group with it", async () => {
    const prefix = uniquePrefix();
    const stream = new WebhookStream(client, relayKeys(prefix));
    const relay = await startWorker(prefix);
    try {
      await stream.store({ receipt: receipt("before-flush"), payload: statusChange });
      await waitFor(() => sink.requests.some((r) => r.body.includes("before-flush")), { what: "the first delivery" });
      await client.flushall();
      await stream.store({ receipt: receipt("after-flush"), payload: statusChange });
      await waitFor(() => sink.requests.some((r) => r.body.includes("after-flush")), { what: "the delivery after it" });
    } finally {
      await relay.close();
    }
  });

  it("sets aside an entry that is not a webhook, says so, and routes the next one", async () => {
    const prefix = uniquePrefix();
    await client.xadd(relayKeys(prefix).webhooks, "*", "receipt", "x", "webhook", "{not json");
    await new WebhookStream(client, relayKeys(prefix)).store({
      receipt: receipt("after-garbage"),
      payload: statusChange,
    });
    const relay = await startWorker(prefix);
    try {
      await waitFor(() => sink.requests.some((r) => r.body.includes("after-garbage")), {
        what: "the next webhook delivered",
      });
      expect(relay.logs.some((line) => line.includes("a stored entry is not a webhook; set aside"))).toBe(true);
      await waitFor(async () => (await client.xlen(relayKeys(prefix).webhooks)) === 0, { what: "the stream emptied" });
      const [[, aside] = ["", []]] = await client.xrange(relayKeys(prefix).unreadableWebhooks, "-", "+");
      expect(aside).toContain("{not json");
    } finally {
      await relay.close();
    }
  });
});
