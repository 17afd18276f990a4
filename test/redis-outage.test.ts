import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/** Redis goes away under a running relay, and comes back. */
describe("when Redis is down", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;

  beforeAll(async () => {
    sink = await startHttpSink();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
retry: { backoff: exponential, delay: 50ms }
routes:
  - to: [crm]
`);
  });

  afterAll(async () => {
    await relay?.close();
    await sink?.close();
  });

  const post = () =>
    fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange,
    });

  it("answers webhooks with a quick 503 instead of hanging or acknowledging, then recovers", async () => {
    expect((await post()).status).toBe(200);
    await sink.waitForRequests(1);

    await redis.stop();
    const started = Date.now();
    const refused = await post();
    const elapsed = Date.now() - started;
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(((await refused.json()) as { error: string }).error).toMatch(/Redis is unreachable/);
    // The contract is an answer within 2 s; the bound here only proves the request did not hang.
    expect(elapsed).toBeLessThan(2000);

    const notReady = await fetch(`${relay.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);

    await redis.start();
    await waitFor(async () => (await fetch(`${relay.url}/readyz`)).status === 200, {
      what: "readyz after restart",
      timeoutMs: 15_000,
    });
    expect((await post()).status).toBe(200);
    // Workers reconnect on their own and deliver what was accepted after the outage.
    await sink.waitForRequests(2, 15_000);
  });
});
