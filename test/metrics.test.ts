import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadConfig } from "../src/config/load.js";
import { createLogger } from "../src/log.js";
import { createRelayMetrics } from "../src/metrics/relay-metrics.js";
import { deliveryQueueName } from "../src/queue/jobs.js";
import { watchConfig } from "../src/reload.js";
import { freePort } from "./support/free-port.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { scrape } from "./support/metrics.js";
import { startTestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const fixture = (name: string) => readFileSync(new URL(`fixtures/socialboards/${name}.json`, import.meta.url), "utf8");
const statusChange = fixture("ticket_status_change");
const ticketCreation = fixture("ticket_creation");

const post = (url: string, body: string, token = "t0ken") =>
  fetch(`${url}?token=${token}`, { method: "POST", headers: { "content-type": "application/json" }, body });

/** `/metrics` counts what really happened, on the ingest port of a relay in role all. */
describe("the metrics of a running relay", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let missing: HttpSink;

  beforeAll(async () => {
    [sink, missing] = await Promise.all([startHttpSink(), startHttpSink()]);
  });

  afterAll(async () => {
    await Promise.all([sink?.close(), missing?.close()]);
  });

  const config = (prefix: string, extra = "") => `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: t0ken }
targets:
  crm: { type: http, url: "${sink.url}/crm" }
  archive: { type: http, url: "${missing.url}/gone-away" }
retry: { attempts: 3, backoff: fixed, delay: 50ms }
routes:
  - to: [crm]
    continue: true
  - match: { event: ticket_creation }
    to: [archive]
${extra}`;

  it("counts webhooks, deliveries and dead letters as the receivers saw them", async () => {
    const prefix = uniquePrefix();
    const relay = await startTestRelay(config(prefix));
    const deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
    sink.reset();
    missing.reset();
    // The first try at crm fails and is retried; the archive endpoint does not exist (a dead letter).
    sink.respondWith({ status: 503 });
    missing.respondWith({ status: 404 });
    try {
      const webhooks = `${relay.url}/webhooks/socialboards`;
      const answers: number[] = [];
      for (let i = 0; i < 4; i++)
        answers.push((await post(webhooks, statusChange.replace("Cat is ill", `Cat ${i}`))).status);
      answers.push((await post(webhooks, ticketCreation)).status);
      expect(answers).toEqual([200, 200, 200, 200, 200]);
      expect((await post(webhooks, statusChange, "wrong")).status).toBe(401);
      expect((await post(`${relay.url}/webhooks/no-such-source`, statusChange)).status).toBe(404);

      await sink.waitForRequests(6);
      await missing.waitForRequests(1);
      await waitFor(async () => (await deliveries.getJobCounts("active", "wait", "delayed")).active === 0 || undefined);
      const metrics = await waitFor(
        async () => {
          const now = await scrape(`${relay.url}/metrics`);
          return now.value("ticket_relay_deliveries_total", { target: "crm", outcome: "delivered" }) === 5 &&
            now.value("ticket_relay_deliveries_total", { target: "archive", outcome: "dead_lettered" }) === 1
            ? now
            : undefined;
        },
        { what: "the deliveries to be counted" },
      );

      expect(metrics.status).toBe(200);
      expect(metrics.contentType).toContain("text/plain");
      // Every try the receivers answered 200 is one delivered; the 503 is the one retry.
      const accepted = sink.requests.length - 1;
      expect(metrics.value("ticket_relay_deliveries_total", { target: "crm", outcome: "delivered" })).toBe(accepted);
      expect(metrics.value("ticket_relay_deliveries_total", { target: "crm", outcome: "retried" })).toBe(1);
      expect(
        metrics.value("ticket_relay_deliveries_total", { target: "crm", outcome: "dead_lettered" }),
      ).toBeUndefined();
      expect(
        metrics.value("ticket_relay_deliveries_total", { target: "archive", outcome: "delivered" }),
      ).toBeUndefined();
      expect(metrics.value("ticket_relay_delivery_latency_seconds_count", { target: "crm" })).toBe(5);
      expect(metrics.value("ticket_relay_delivery_latency_seconds_sum", { target: "crm" })).toBeGreaterThan(0);

      expect(metrics.value("ticket_relay_webhooks_total", { source: "socialboards", status: "200" })).toBe(5);
      expect(metrics.value("ticket_relay_webhooks_total", { source: "socialboards", status: "401" })).toBe(1);
      // A path that names no source does not make a label of its own.
      expect(metrics.value("ticket_relay_webhooks_total", { source: "unknown", status: "404" })).toBe(1);
      expect(metrics.text).not.toContain("no-such-source");
      expect(metrics.value("ticket_relay_ingest_duration_seconds_count", { source: "socialboards" })).toBe(6);

      expect(metrics.value("ticket_relay_events_total", { source: "socialboards", type: "ticket_status_change" })).toBe(
        4,
      );
      expect(metrics.value("ticket_relay_events_total", { source: "socialboards", type: "ticket_creation" })).toBe(1);

      expect(metrics.value("ticket_relay_dead_letters")).toBe(1);
      expect(metrics.value("ticket_relay_queue_jobs", { queue: "delivery", state: "failed" })).toBe(1);
      expect(metrics.value("ticket_relay_queue_jobs", { queue: "delivery", state: "waiting" })).toBe(0);
      expect(metrics.value("ticket_relay_queue_jobs", { queue: "inbound", state: "waiting" })).toBe(0);
      expect(metrics.value("ticket_relay_queue_oldest_waiting_seconds", { queue: "delivery" })).toBe(0);
      expect(metrics.value("ticket_relay_redis_up")).toBe(1);
    } finally {
      await deliveries.close();
      await relay.close();
    }
  });

  it("reads queue depth and the age of the oldest waiting webhook from Redis, per relay", async () => {
    const prefix = uniquePrefix();
    // Ingest alone: webhooks wait to be routed, as when every worker is down.
    const [ingest, other] = await Promise.all([
      startTestRelay(config(prefix), { role: "ingest" }),
      startTestRelay(config(uniquePrefix()), { role: "ingest" }),
    ]);
    try {
      const webhooks = `${ingest.url}/webhooks/socialboards`;
      expect((await post(webhooks, statusChange.replace("Cat is ill", "Waiting 1"))).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await post(webhooks, statusChange.replace("Cat is ill", "Waiting 2"))).status).toBe(200);

      const metrics = await scrape(`${ingest.url}/metrics`);
      expect(metrics.value("ticket_relay_queue_jobs", { queue: "inbound", state: "waiting" })).toBe(2);
      expect(metrics.value("ticket_relay_queue_jobs", { queue: "inbound", state: "active" })).toBe(0);
      expect(metrics.value("ticket_relay_queue_oldest_waiting_seconds", { queue: "inbound" })).toBeGreaterThanOrEqual(
        1,
      );
      expect(metrics.value("ticket_relay_queue_oldest_waiting_seconds", { queue: "inbound" })).toBeLessThan(30);
      expect(metrics.value("ticket_relay_webhooks_total", { source: "socialboards", status: "200" })).toBe(2);

      // Another relay in the same process counts only its own.
      const others = await scrape(`${other.url}/metrics`);
      expect(others.value("ticket_relay_webhooks_total", { source: "socialboards", status: "200" })).toBeUndefined();
      expect(others.value("ticket_relay_queue_jobs", { queue: "inbound", state: "waiting" })).toBe(0);
    } finally {
      await Promise.all([ingest.close(), other.close()]);
    }
  });

  it("serves every endpoint on the ingest port in role all, and starts no second server", async () => {
    const opsPort = await freePort();
    const relay = await startTestRelay(config(uniquePrefix(), `workers: { opsPort: ${opsPort} }`));
    try {
      expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${relay.url}/readyz`)).status).toBe(200);
      expect((await scrape(`${relay.url}/metrics`)).value("ticket_relay_redis_up")).toBe(1);
      await expect(fetch(`http://127.0.0.1:${opsPort}/metrics`)).rejects.toThrow();
      expect(relay.opsUrl).toBeUndefined();
    } finally {
      await relay.close();
    }
  });

  it("counts config reloads put in force and refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "metrics-reload-"));
    const file = join(dir, "relay.yaml");
    const yaml = config(uniquePrefix());
    writeFileSync(file, yaml);
    const relay = await startTestRelay(yaml);
    const stopWatching = watchConfig(file, relay, createLogger({ level: "silent" }), await loadConfig(file));
    const reloads = async (result: string) =>
      (await scrape(`${relay.url}/metrics`)).value("ticket_relay_config_reloads_total", { result });
    try {
      expect(await reloads("ok")).toBe(0);
      expect(await reloads("refused")).toBe(0);
      writeFileSync(file, "routes: [ this is not yaml");
      await waitFor(async () => (await reloads("refused")) === 1, { what: "the refused reload to be counted" });
      writeFileSync(file, yaml.replace("/crm", "/crm-v2"));
      await waitFor(async () => (await reloads("ok")) === 1, { what: "the reload to be counted" });
      relay.reload(await loadConfig(file));
      expect(await reloads("ok")).toBe(2);
      expect(await reloads("refused")).toBe(1);
    } finally {
      stopWatching();
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("a scrape while Redis is away", () => {
  const redis = useRedis();

  it("answers at once, says Redis is down, and keeps the counters", async () => {
    const relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: t0ken }
`);
    try {
      expect((await scrape(`${relay.url}/metrics`)).value("ticket_relay_redis_up")).toBe(1);
      await redis.stop();
      expect((await post(`${relay.url}/webhooks/socialboards`, statusChange)).status).toBe(503);

      const started = Date.now();
      const metrics = await scrape(`${relay.url}/metrics`);
      expect(Date.now() - started).toBeLessThan(2000);
      expect(metrics.status).toBe(200);
      expect(metrics.value("ticket_relay_redis_up")).toBe(0);
      // No depth is better than a stale one.
      expect(metrics.samples("ticket_relay_queue_jobs")).toEqual([]);
      expect(metrics.value("ticket_relay_dead_letters")).toBeNaN();
      expect(metrics.value("ticket_relay_webhooks_total", { source: "socialboards", status: "503" })).toBe(1);
    } finally {
      await relay.close();
    }
  });
});

/** Pure logic: the event-type label cannot grow without bound, whatever senders invent. */
describe("the event type label", () => {
  it("keeps the first 200 types and counts the rest as other", async () => {
    const metrics = createRelayMetrics({ readQueues: async () => ({ queues: [], deadLetters: 0 }) });
    for (let i = 0; i < 250; i++) metrics.events.received("generic", `type_${i}`);
    metrics.events.received("generic", "type_0");
    const text = await metrics.registry.metrics();
    const types = [...text.matchAll(/ticket_relay_events_total\{[^}]*type="([^"]+)"\} (\d+)/g)];
    expect(types).toHaveLength(201);
    expect(types.find(([, type]) => type === "other")?.[2]).toBe("50");
    expect(types.find(([, type]) => type === "type_0")?.[2]).toBe("2");
  });
});
