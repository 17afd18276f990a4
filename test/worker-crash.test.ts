import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryQueueName } from "../src/queue/jobs.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { type RedisServer, startRedisServer } from "./support/redis.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { startRelayProcess } from "./support/relay-process.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/** Worker processes killed with SIGKILL in the middle of deliveries, one after another. */
describe("when workers crash", () => {
  let redis: RedisServer;
  let sink: HttpSink;
  let ingest: TestRelay;
  let deliveries: Queue;
  const prefix = uniquePrefix();
  const config = (url: string) => `
server: { port: 0, host: 127.0.0.1 }
redis: { url: "${url}", prefix: ${prefix} }
workers: { concurrency: 5, lockDuration: 1s, stalledInterval: 500ms }
sources:
  socialboards: { type: socialboards, verifyToken: v }
targets:
  crm: { type: http, url: "${sink?.url}/hooks", timeout: 30s }
retry: { attempts: 3, delay: 100ms }
routes:
  - to: [crm]
`;

  beforeAll(async () => {
    [redis, sink] = await Promise.all([startRedisServer(), startHttpSink()]);
    ingest = await startTestRelay(config(redis.url), { role: "ingest" });
    deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
  });

  afterAll(async () => {
    await deliveries?.close();
    await ingest?.close();
    await sink?.close();
    await redis?.stop();
  });

  it("delivers every in-flight delivery after two crashes in a row, within its attempts", async () => {
    // The first ten requests hang, so the first two workers die with five deliveries each in hand.
    sink.respondWith(...Array.from({ length: 10 }, () => ({ status: 200, delayMs: 60_000 })));
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${ingest.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: statusChange.replace("Cat is ill", `Cat ${i}`),
      });
      expect(response.status).toBe(200);
    }

    const first = await startRelayProcess(config(redis.url), "worker");
    await sink.waitForRequests(5);
    first.kill("SIGKILL");
    await first.exited;

    const crashedAt = Date.now();
    const second = await startRelayProcess(config(redis.url), "worker");
    // Picked up again within lockDuration + stalledInterval, not after a minute.
    await sink.waitForRequests(10, 8000);
    const pickedUpMs = Date.now() - crashedAt;
    second.kill("SIGKILL");
    await second.exited;

    const third = await startRelayProcess(config(redis.url), "worker");
    try {
      await sink.waitForRequests(15, 10_000);
      await waitFor(async () => (await deliveries.getJobCountByTypes("wait", "active", "delayed")) === 0, {
        what: "the delivery queue to drain",
      });
      expect(await deliveries.getFailedCount()).toBe(0);
      const delivered = new Set(sink.requests.map((request) => (request.json as { deliveryId: string }).deliveryId));
      expect(delivered.size).toBe(5);
      expect(pickedUpMs).toBeLessThan(8000);
    } finally {
      third.kill("SIGTERM");
      await third.exited;
    }
  }, 45_000);
});
