import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryQueueName } from "../../src/queue/jobs.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startRedisServer } from "../support/redis.js";
import { uniquePrefix } from "../support/relay.js";
import { startRelayProcess } from "../support/relay-process.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/** SIGTERM, as docker stop sends it, to a relay that is busy on both sides. */
describe("shutting down", () => {
  const redis = useRedis();
  let sink: HttpSink;

  beforeAll(async () => {
    sink = await startHttpSink();
  });

  afterAll(async () => {
    await sink?.close();
  });

  it("exits 0 within seconds with a slow client open, finishing every delivery it started", async () => {
    const prefix = uniquePrefix();
    const config = `
server: { port: 0, host: 127.0.0.1 }
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
workers: { concurrency: 4, lockDuration: 2s, stalledInterval: 1s }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 5s }
routes:
  - to: [crm]
`;
    // Every answer takes 700 ms, so deliveries are in flight when the signal comes.
    sink.respondWith(...Array.from({ length: 40 }, () => ({ status: 200, delayMs: 700 })));
    const relay = await startRelayProcess(config);
    for (let i = 0; i < 12; i++) {
      const body = statusChange.replace("Cat is ill", `Cat ${i}`);
      const response = await fetch(`${relay.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
      expect(response.status).toBe(200);
    }
    await sink.waitForRequests(2);
    await waitFor(() => relay.lines.filter((line) => line.includes('"msg":"routed"')).length === 12, {
      what: "all 12 webhooks routed",
    });

    // A client that announces 1,000 bytes and sends one a second.
    const slow = connect(Number(new URL(relay.url).port), "127.0.0.1");
    await new Promise((resolve) => slow.once("connect", resolve));
    slow.on("error", () => undefined);
    slow.write(
      "POST /webhooks/socialboards HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{",
    );
    const drip = setInterval(() => slow.writable && slow.write(" "), 1000);
    // A moment for the relay to read the head, so that the request is in flight when the signal
    // comes: nothing outside the process shows when it has (no log line, no metric).
    await new Promise((resolve) => setTimeout(resolve, 300));

    const signalled = Date.now();
    relay.kill("SIGTERM");
    const timeout = setTimeout(() => relay.kill("SIGKILL"), 20_000);
    const { code } = await relay.exited;
    const tookMs = Date.now() - signalled;
    clearTimeout(timeout);
    clearInterval(drip);
    slow.destroy();

    expect(code).toBe(0);
    expect(tookMs).toBeLessThan(10_000);
    expect(relay.lines.join("\n")).not.toMatch(/exiting anyway/);

    // Nothing was left half-done: no delivery is still claimed by the process that stopped,
    // and what it did not start waits for the next worker.
    const deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
    try {
      expect(await deliveries.getActiveCount()).toBe(0);
      const sent = new Set(sink.requests.map((request) => (request.json as { deliveryId: string }).deliveryId));
      expect(sent.size).toBe(sink.requests.length);
      // All 12 are one ticket's: those behind an unfinished earlier one wait in the delayed set.
      const waiting = await deliveries.getJobCountByTypes("waiting", "delayed");
      expect(sent.size + waiting).toBe(12);
    } finally {
      await deliveries.close();
    }
  }, 30_000);

  it("stops at once when Redis is away, after one line per part instead of a line a second", async () => {
    const gone = await startRedisServer();
    await gone.stop();
    const relay = await startRelayProcess(`
server: { port: 0, host: 127.0.0.1 }
redis: { url: "${gone.url}" }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: t0ken }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - to: [crm]
`);
    // The behaviour under test: a second away from Redis, in which a line a second would show.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    const signalled = Date.now();
    relay.kill("SIGTERM");
    const { code } = await relay.exited;
    expect(code).toBe(0);
    expect(Date.now() - signalled).toBeLessThan(5000);
    const warnings = relay.lines.filter((line) => /"level":(40|50)/.test(line));
    expect(warnings.length).toBeLessThanOrEqual(6);
    expect(relay.lines.join("\n")).toContain("Is Redis running");
  }, 30_000);
});
