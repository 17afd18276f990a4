import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryJobOptions, deliveryQueueName } from "../src/queue/jobs.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");
const customerEmail = "robert78baker@gmail.com";

/** Redis is the relay's disk: what it keeps after a delivery, and what it forgets. */
describe("what Redis keeps", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    sink = await startHttpSink();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - to: [crm]
`);
  });

  afterAll(async () => {
    await relay?.close();
    await sink?.close();
  });

  /** Every string, hash, list and stream value under the relay's prefix, as one text. */
  async function everythingStored(): Promise<string> {
    const keys = await redis.client.keys(`${prefix}:*`);
    const values = await Promise.all(
      keys.map(async (key) => {
        const type = await redis.client.type(key);
        if (type === "string") return redis.client.get(key);
        if (type === "hash") return JSON.stringify(await redis.client.hgetall(key));
        if (type === "list") return JSON.stringify(await redis.client.lrange(key, 0, -1));
        if (type === "stream") return JSON.stringify(await redis.client.xrange(key, "-", "+"));
        return "";
      }),
    );
    return values.join("\n");
  }

  it("forgets a delivered webhook's payload at once, and remembers its delivery id so it is never sent twice", async () => {
    const response = await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange,
    });
    expect(response.status).toBe(200);
    const [request] = await sink.waitForRequests(1);
    const { deliveryId, event } = (request?.json ?? {}) as { deliveryId: string; event: { id: string } };
    const deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
    try {
      await waitFor(async () => (await deliveries.getJob(deliveryId)) === undefined, { what: "the job to be removed" });
      expect(await everythingStored()).not.toContain(customerEmail);

      // Routing a webhook again after a crash would add the same delivery again.
      await relay.close();
      await deliveries.add(
        "crm",
        { event, targetId: "crm", route: "" } as never,
        deliveryJobOptions(event.id, "crm", { attempts: 3, deadLetters: { keep: 60_000, max: 10 } }),
      );
      expect(await deliveries.getJobCountByTypes("wait", "active", "delayed", "completed")).toBe(0);
    } finally {
      await deliveries.close();
    }
  });
});
