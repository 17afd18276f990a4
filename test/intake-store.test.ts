import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Intake, QueueUnavailable } from "../src/queue/inbound/intake.js";
import { WebhookStream } from "../src/queue/inbound/webhook-stream.js";
import { relayKeys } from "../src/queue/queues.js";
import { createIngestConnection } from "../src/redis/connections.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";
import { storedWebhooks } from "./support/webhook-stream.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/** What ingest answers when Redis is slow, full or handed something it cannot store. */
describe("storing a webhook when Redis misbehaves", () => {
  const redis = useRedis();

  const receipt = (id: string) => ({ id, source: "socialboards", receivedAt: new Date().toISOString() });

  /** An Intake on its own connection, as ingest builds it, with a short store timeout. */
  async function openIntake(prefix: string, timeoutMs: number) {
    const connection = createIngestConnection(redis.url);
    const intake = new Intake(connection, new WebhookStream(connection, relayKeys(prefix)), {
      dedupWindowMs: () => 60_000,
      timeoutMs,
    });
    await intake.waitUntilReady(5000);
    const inbound = storedWebhooks(redis.url, prefix);
    return {
      intake,
      inbound,
      async close() {
        await inbound.close();
        connection.disconnect();
      },
    };
  }

  it("recognises the sender's retry of a body whose write landed after ingest gave up on it", async () => {
    const prefix = uniquePrefix();
    const { intake, inbound, close } = await openIntake(prefix, 300);
    const rawBody = Buffer.from(statusChange);
    try {
      await redis.client.call("CLIENT", "PAUSE", "1000", "WRITE");
      const first = intake.accept({ receipt: receipt("r1"), payload: JSON.parse(statusChange), rawBody });
      await expect(first).rejects.toBeInstanceOf(QueueUnavailable);
      // The paused write is not lost: it lands once Redis resumes.
      await waitFor(async () => (await inbound.count()) === 1, { what: "the late write", timeoutMs: 5000 });

      const retry = await intake.accept({ receipt: receipt("r2"), payload: JSON.parse(statusChange), rawBody });
      expect(retry).toBe("duplicate");
      expect(await inbound.count()).toBe(1);
    } finally {
      await close();
    }
  });

  it("stores a different body from the same source as a webhook of its own", async () => {
    const { intake, inbound, close } = await openIntake(uniquePrefix(), 2000);
    try {
      const other = statusChange.replace('"pending"', '"closed"');
      for (const [id, body] of [
        ["a", statusChange],
        ["b", other],
      ] as const) {
        const outcome = await intake.accept({
          receipt: receipt(id),
          payload: JSON.parse(body),
          rawBody: Buffer.from(body),
        });
        expect(outcome).toBe("stored");
      }
      expect(await inbound.count()).toBe(2);
    } finally {
      await close();
    }
  });

  it("stores the body as the JSON text it arrived in, digits and spacing as sent", async () => {
    const prefix = uniquePrefix();
    const { intake, close } = await openIntake(prefix, 2000);
    try {
      const text = '{"EventType": "ticket_status_change",  "Id": 12345678901234567890, "Events": []}';
      const outcome = await intake.accept({
        receipt: receipt("exact"),
        payload: JSON.parse(text),
        rawBody: Buffer.from(text),
      });
      expect(outcome).toBe("stored");
      const [[, fields] = ["", []]] = await redis.client.xrange(relayKeys(prefix).webhooks, "-", "+");
      // Serializing the parsed body again would have written 12345678901234567000.
      expect(fields[fields.indexOf("webhook") + 1]).toContain(`"payload":${text}`);
    } finally {
      await close();
    }
  });

  describe("over HTTP", () => {
    let relay: TestRelay;
    let inbound: ReturnType<typeof storedWebhooks>;

    beforeAll(async () => {
      const prefix = uniquePrefix();
      relay = await startTestRelay(
        `
redis: { url: "${redis.url}", prefix: ${prefix} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
`,
        { role: "ingest" },
      );
      inbound = storedWebhooks(redis.url, prefix);
    });

    afterAll(async () => {
      await inbound?.close();
      await relay?.close();
    });

    const post = (body: string) =>
      fetch(`${relay.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });

    it("answers 200 for a webhook stored while Redis was paused for 3 s, not 503", async () => {
      const before = await inbound.count();
      await redis.client.call("CLIENT", "PAUSE", "3000", "WRITE");
      const response = await post(statusChange.replace("Cat is ill", "Paused"));
      expect(response.status).toBe(200);
      expect(await inbound.count()).toBe(before + 1);
    });

    it("answers 503 while Redis is out of memory, keeps serving, and stores again once it has room", async () => {
      const used = Number(/used_memory:(\d+)/.exec(await redis.client.info("memory"))?.[1]);
      await redis.client.config("SET", "maxmemory", String(used + 64 * 1024));
      try {
        const big = JSON.stringify({ ...JSON.parse(statusChange), Padding: "x".repeat(200_000) });
        const refused = await post(big);
        expect(refused.status).toBe(503);
        expect(((await refused.json()) as { error: string }).error).toMatch(/send it again/);
        expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
      } finally {
        await redis.client.config("SET", "maxmemory", "0");
      }
      expect((await post(statusChange.replace("Cat is ill", "After OOM"))).status).toBe(200);
      expect(relay.logs.join("")).toMatch(/OOM/);
    });
  });
});
