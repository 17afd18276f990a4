import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryQueueName } from "../../src/queue/jobs.js";
import { relayKeys } from "../../src/queue/queues.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { startRelayProcess } from "../support/relay-process.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/** Worker processes killed with SIGKILL in the middle of deliveries, one after another. */
describe("when workers crash", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let ingest: TestRelay;
  let deliveries: Queue;
  const prefix = uniquePrefix();
  const config = (url: string) => `
server: { port: 0, host: 127.0.0.1 }
redis: { url: "${url}", prefix: ${prefix} }
workers: { concurrency: 5, lockDuration: 1s, stalledInterval: 500ms }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink?.url}/hooks", timeout: 30s }
retry: { attempts: 3, backoff: fixed, delay: 100ms }
routes:
  - to: [crm]
`;

  beforeAll(async () => {
    sink = await startHttpSink();
    ingest = await startTestRelay(config(redis.url), { role: "ingest" });
    deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
  });

  afterAll(async () => {
    await deliveries?.close();
    await ingest?.close();
    await sink?.close();
  });

  it("delivers every in-flight delivery after two crashes in a row, within its attempts", async () => {
    // The first ten requests hang, so the first two workers die with five deliveries each in hand.
    sink.respondWith(...Array.from({ length: 10 }, () => ({ status: 200, delayMs: 60_000 })));
    for (let i = 0; i < 5; i++) {
      const response = await fetch(`${ingest.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        // Five tickets: one ticket's events go one at a time, and all five must be in hand at once.
        body: statusChange.replaceAll("4478963", `447896${i}`).replace("Cat is ill", `Cat ${i}`),
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

  it("does not send again a delivery its target accepted just before the worker died", async () => {
    sink.reset();
    sink.respondWith({ status: 200, delayMs: 60_000 });
    const response = await fetch(`${ingest.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange.replace("Cat is ill", "Accepted, then the worker died"),
    });
    expect(response.status).toBe(200);
    const first = await startRelayProcess(config(redis.url), "worker");
    const [request] = await sink.waitForRequests(1);
    const { deliveryId } = (request?.json ?? {}) as { deliveryId: string };
    // The worker wrote its mark the moment the target said yes, and died before the job was done.
    const admin = new Redis(redis.url);
    await admin.set(relayKeys(prefix).sent(deliveryId), "HTTP 200");
    admin.disconnect();
    first.kill("SIGKILL");
    await first.exited;

    const second = await startRelayProcess(config(redis.url), "worker");
    try {
      await waitFor(() => second.lines.some((line) => line.includes("already sent")), {
        what: "the re-run to find the mark",
      });
      // The job is marked done just after that line is written.
      await waitFor(async () => (await deliveries.getJobCountByTypes("wait", "active", "delayed")) === 0, {
        what: "the job to be done",
      });
      expect(await deliveries.getFailedCount()).toBe(0);
      expect(sink.requests).toHaveLength(1);
    } finally {
      second.kill("SIGTERM");
      await second.exited;
    }
  }, 30_000);
});
