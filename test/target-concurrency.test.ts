import { createServer, type Server } from "node:http";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import { deliveryJobOptions, deliveryQueueName } from "../src/queue/jobs.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { closeServer, listen } from "./support/listen.js";
import { type RedisServer, startRedisServer } from "./support/redis.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { statusChange } from "./support/ticket-events.js";
import { waitFor } from "./support/wait.js";

/** A receiver that answers every request after `delayMs`, counting how many it holds at once. */
async function startSlowReceiver(delayMs: number) {
  let inFlight = 0;
  let mostAtOnce = 0;
  let answered = 0;
  const server: Server = createServer((request, response) => {
    inFlight += 1;
    mostAtOnce = Math.max(mostAtOnce, inFlight);
    request.resume();
    setTimeout(() => {
      inFlight -= 1;
      answered += 1;
      if (!response.destroyed) response.end('{"ok":true}');
    }, delayMs);
  });
  const url = await listen(server);
  return {
    url,
    stats: () => ({ mostAtOnce, answered }),
    close: () => closeServer(server),
  };
}

/**
 * One target answering slowly must not take the workers from the others: each target sends at
 * most its `concurrency` at once across every worker process, and a delivery that finds its
 * target's slots taken waits parked, not in a worker slot.
 */
describe("a slow target beside a fast one", () => {
  let redis: RedisServer;
  let fast: HttpSink;
  let slow: Awaited<ReturnType<typeof startSlowReceiver>>;
  const relays: TestRelay[] = [];

  beforeAll(async () => {
    [redis, fast, slow] = await Promise.all([startRedisServer(), startHttpSink(), startSlowReceiver(4000)]);
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.close()));
    await Promise.all([fast?.close(), slow?.close(), redis?.stop()]);
  });

  it("delivers every webhook to the fast target at once while the slow one holds only its share", async () => {
    const prefix = uniquePrefix();
    const yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
workers: { concurrency: 20, shutdownTimeout: 1s }
sources:
  sb: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  slow: { type: http, url: "${slow.url}/hooks", timeout: 10s, concurrency: 3 }
  fast: { type: http, url: "${fast.url}/hooks" }
routes:
  - { name: all, to: [slow, fast] }
`;
    const ingest = await startTestRelay(yaml, { role: "ingest" });
    // Two worker processes' worth of workers (40 slots): the limit holds across them.
    relays.push(ingest, await startTestRelay(yaml, { role: "worker" }), await startTestRelay(yaml, { role: "worker" }));
    const webhooks = 200;
    for (let ticket = 1; ticket <= webhooks; ticket += 1) {
      const answer = await fetch(`${ingest.url}/webhooks/sb`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(statusChange(4470000 + ticket, "open", "pending")),
      });
      expect(answer.status).toBe(200);
    }
    // Without a per-target limit the slow target's deliveries took all 40 slots for 4 s at a
    // time, and the fast target's arrived over 20 s; now they are there within a few seconds.
    await fast.waitForRequests(webhooks, 6000);
    expect(slow.stats().mostAtOnce).toBeLessThanOrEqual(3);
    expect(slow.stats().mostAtOnce).toBeGreaterThan(0);
  }, 60_000);

  it("drains a backlog to one fast target with fewer slots than workers completely, leaving nothing parked", async () => {
    fast.reset();
    const prefix = uniquePrefix();
    const client = new Redis(redis.url);
    const deliveries = new Queue(deliveryQueueName, { connection: client, prefix });
    const backlog = 3000;
    await deliveries.addBulk(
      Array.from({ length: backlog }, (_, index) => {
        const event = {
          id: `backlog${index}.0`,
          source: "sb",
          sourceType: "socialboards",
          type: "ticket_status_change",
          known: true,
          receivedAt: new Date().toISOString(),
          ticketId: String(5_000_000 + index),
          raw: {},
        };
        const policy = { attempts: 3, deadLetters: { keep: 3_600_000, max: 1000 } };
        return {
          name: "fast",
          data: { event, targetId: "fast", route: "all" },
          opts: deliveryJobOptions(event.id, "fast", policy),
        };
      }),
    );
    // 50 deliveries in hand, 10 slots: the 40 others wait here and are handed each slot given back.
    const worker = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  sb: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  fast: { type: http, url: "${fast.url}/hooks" }
routes:
  - { name: all, to: [fast] }
`,
      { role: "worker" },
    );
    relays.push(worker);
    await fast.waitForRequests(backlog, 45_000);
    // Nothing left parked: every slot given back reached a delivery waiting for one.
    const left = () => deliveries.getJobCounts("delayed", "waiting", "active", "failed");
    await waitFor(async () => Object.values(await left()).every((count) => count === 0), { what: "an empty queue" });
    await deliveries.close();
    client.disconnect();
  }, 60_000);

  it("sends at most 10 at once to a target that names no concurrency", () => {
    const config = parseConfig(
      `
sources: { sb: { type: socialboards, verifyToken: v, urlToken: none } }
targets: { crm: { type: http, url: "https://crm.example.com/hooks" } }
`,
      "relay.yaml",
      {},
    );
    expect(config.targets.crm?.concurrency).toBe(10);
  });
});
