import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryQueueName } from "../src/queue/jobs.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const ticketCreation = readFileSync(new URL("fixtures/socialboards/ticket_creation.json", import.meta.url), "utf8");

/**
 * A webhook URL is often typed in by whoever sets up an integration. Without the guard, one
 * pointed at 127.0.0.1 or a cloud metadata address would have the relay call it for them.
 */
describe("an HTTP target pointed at the relay's own network", () => {
  const redis = useRedis();
  let local: HttpSink;
  let internal: HttpSink;
  let relay: TestRelay;
  let deliveries: Queue;

  beforeAll(async () => {
    [local, internal] = await Promise.all([startHttpSink(), startHttpSink()]);
    const prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  by-address: { type: http, url: "${local.url}/hooks" }
  by-name: { type: http, url: "http://localhost:${new URL(local.url).port}/hooks" }
  internal-hook: { type: http, url: "${internal.url}/hooks", allowPrivateNetwork: true }
retry: { attempts: 3, backoff: fixed, delay: 50ms, maxDelay: 100ms }
routes:
  - to: [by-address, by-name, internal-hook]
`);
    deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
    await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ticketCreation,
    });
    await waitFor(async () => ((await deliveries.getFailedCount()) === 2 ? true : undefined), {
      what: "two failed deliveries",
    });
    await internal.waitForRequests(1);
  });

  afterAll(async () => {
    await deliveries?.close();
    await relay?.close();
    await Promise.all([local?.close(), internal?.close()]);
  });

  const failed = async () => Object.fromEntries((await deliveries.getFailed()).map((job) => [job.data.targetId, job]));

  it("refuses a loopback address at once, saying why and how to allow it, and never connects", async () => {
    const jobs = await failed();
    expect(jobs["by-address"]?.failedReason).toBe(
      `HTTP by-address (POST ${local.url}/hooks): refused: 127.0.0.1 is a loopback address; set allowPrivateNetwork: true to allow`,
    );
    expect(jobs["by-address"]?.attemptsMade).toBe(1);
    expect(local.connections).toBe(0);
  });

  it("checks a host name after looking it up, so localhost is refused too", async () => {
    const jobs = await failed();
    expect(jobs["by-name"]?.failedReason).toMatch(
      /refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address; set allowPrivateNetwork: true to allow$/,
    );
    expect(jobs["by-name"]?.attemptsMade).toBe(1);
    expect(local.connections).toBe(0);
  });

  it("delivers to a private address when the target allows it", () => {
    expect(internal.requests).toHaveLength(1);
    expect(relay.logs.join("")).toMatch(/"target":"internal-hook".*"msg":"delivered"/);
  });
});
