import { readFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../support/cli-run.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { scrape } from "../support/metrics.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { startRelayProcess } from "../support/relay-process.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/** A worker process has no webhook port: its own small server tells orchestrators and Prometheus how it is. */
describe("the worker role's ops server", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let ingest: TestRelay;
  let yaml: string;

  beforeAll(async () => {
    sink = await startHttpSink();
    yaml = `
server: { host: 127.0.0.1 }
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
workers: { opsPort: 0, shutdownTimeout: 10s }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: t0ken }
targets:
  crm: { type: http, url: "${sink.url}/crm", timeout: 10s }
routes:
  - to: [crm]
`;
    ingest = await startTestRelay(yaml, { role: "ingest" });
  });

  afterAll(async () => {
    await ingest?.close();
    await sink?.close();
  });

  const postWebhook = (title: string) =>
    fetch(`${ingest.url}/webhooks/socialboards?token=t0ken`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange.replace("Cat is ill", title),
    });

  it("answers /healthz, /readyz and /metrics on the port it logs, and says 503 while Redis is away", async () => {
    const worker = await startRelayProcess(yaml, "worker");
    try {
      expect(worker.url).toBe("");
      expect(worker.opsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
      expect(await (await fetch(`${worker.opsUrl}/healthz`)).json()).toEqual({ status: "ok" });
      expect((await fetch(`${worker.opsUrl}/readyz`)).status).toBe(200);
      expect((await fetch(`${worker.opsUrl}/webhooks/socialboards`, { method: "POST" })).status).toBe(404);

      expect((await postWebhook("Counted by the worker")).status).toBe(200);
      await sink.waitForRequests(1);
      const metrics = await waitFor(async () => {
        const now = await scrape(`${worker.opsUrl}/metrics`);
        return now.value("ticket_relay_deliveries_total", { target: "crm", outcome: "delivered" }) === 1 && now;
      });
      expect(metrics.value("ticket_relay_events_total", { source: "socialboards", type: "ticket_status_change" })).toBe(
        1,
      );
      expect(metrics.value("ticket_relay_redis_up")).toBe(1);
      expect(metrics.value("ticket_relay_queue_jobs", { queue: "delivery", state: "waiting" })).toBe(0);

      await redis.stop();
      try {
        const readiness = await waitFor(async () => {
          const response = await fetch(`${worker.opsUrl}/readyz`);
          return response.status === 503 && response;
        });
        expect(await readiness.json()).toEqual({ error: "Redis is unreachable" });
        expect((await fetch(`${worker.opsUrl}/healthz`)).status).toBe(200);
        const started = Date.now();
        const down = await scrape(`${worker.opsUrl}/metrics`);
        expect(Date.now() - started).toBeLessThan(2000);
        expect(down.value("ticket_relay_redis_up")).toBe(0);
        expect(down.value("ticket_relay_deliveries_total", { target: "crm", outcome: "delivered" })).toBe(1);
      } finally {
        await redis.start();
      }
      await waitFor(async () => (await fetch(`${worker.opsUrl}/readyz`)).status === 200, {
        what: "the worker to be ready again",
      });
      await waitFor(async () => (await scrape(`${worker.opsUrl}/metrics`)).value("ticket_relay_redis_up") === 1, {
        what: "the queues to be read again",
      });
    } finally {
      worker.kill("SIGTERM");
      await worker.exited;
    }
  }, 40_000);

  it("says 503 on /readyz while it finishes the deliveries in hand at shutdown", async () => {
    const worker = await startRelayProcess(yaml, "worker");
    sink.reset();
    sink.respondWith({ status: 200, delayMs: 2000 });
    let signalled = false;
    try {
      expect((await postWebhook("Slow to deliver")).status).toBe(200);
      await sink.waitForRequests(1);
      worker.kill("SIGTERM");
      signalled = true;
      const readiness = await waitFor(async () => {
        const response = await fetch(`${worker.opsUrl}/readyz`);
        return response.status === 503 && response;
      });
      expect(await readiness.json()).toEqual({ error: "shutting down" });
      expect((await fetch(`${worker.opsUrl}/healthz`)).status).toBe(200);
    } finally {
      // A second signal would mean "exit now".
      if (!signalled) worker.kill("SIGTERM");
    }
    expect((await worker.exited).code).toBe(0);
  }, 30_000);

  it("says in one line that its ops port is taken, and exits 1", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const file = writeConfig(yaml.replace("opsPort: 0", `opsPort: ${port}`));
      const result = await runCli(["serve", "--config", file, "--role", "worker"]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `port ${port} is already in use (127.0.0.1:${port}): stop what runs there, or set workers.opsPort`,
      );
      expect(result.ms).toBeLessThan(10_000);
    } finally {
      taken.close();
    }
  }, 20_000);
});
