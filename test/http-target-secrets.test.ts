import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deliveryQueueName } from "../src/queue/jobs.js";
import { freePort } from "./support/free-port.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const ticketCreation = readFileSync(new URL("fixtures/socialboards/ticket_creation.json", import.meta.url), "utf8");
const secret = "s3cret-value";
const query = `?apikey=${secret}`;

/**
 * An API key in a target's query string is a secret like any other: it must not reach the logs
 * or the failed set, however the request fails. Three HTTP targets, each failing its own way.
 */
describe("an HTTP target whose URL carries an API key", () => {
  const redis = useRedis();
  let broken: HttpSink;
  let slow: HttpSink;
  let relay: TestRelay;
  let deliveries: Queue;
  const endpoints: Record<string, string> = {};

  beforeAll(async () => {
    [broken, slow] = await Promise.all([startHttpSink(), startHttpSink()]);
    endpoints.refused = `http://127.0.0.1:${await freePort()}/hooks`;
    endpoints.broken = `${broken.url}/broken`;
    endpoints.slow = `${slow.url}/slow`;
    // Error pages often echo the request line, query string and all.
    const echo = { status: 500, body: `Internal error\nwhile handling POST /broken${query}` };
    broken.respondWith(echo, echo);
    slow.respondWith({ status: 200, delayMs: 1500 }, { status: 200, delayMs: 1500 });

    const prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  refused: { type: http, url: "${endpoints.refused}${query}", timeout: 300ms }
  broken: { type: http, url: "${endpoints.broken}${query}", timeout: 2s }
  slow: { type: http, url: "${endpoints.slow}${query}", timeout: 300ms }
retry: { attempts: 2, backoff: fixed, delay: 50ms, maxDelay: 100ms }
routes:
  - to: [refused, broken, slow]
`);
    deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });

    await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ticketCreation,
    });
    await waitFor(async () => ((await deliveries.getFailedCount()) === 3 ? true : undefined), {
      what: "three failed deliveries",
    });
  });

  afterAll(async () => {
    await deliveries?.close();
    await relay?.close();
    await Promise.all([broken?.close(), slow?.close()]);
  });

  const failedReasons = async () =>
    Object.fromEntries((await deliveries.getFailed()).map((job) => [job.data.targetId, job.failedReason]));

  it("says why each request failed, naming the endpoint by origin and path", async () => {
    const reasons = await failedReasons();
    expect(reasons.refused).toContain(endpoints.refused);
    expect(reasons.refused).toMatch(/ECONNREFUSED/);
    expect(reasons.broken).toContain(endpoints.broken);
    expect(reasons.broken).toMatch(/answered 500: Internal error while handling POST \/broken/);
    expect(reasons.slow).toContain(endpoints.slow);
    expect(reasons.slow).toMatch(/no answer within 300 ms/);
  });

  it("keeps the query string out of the failed set", async () => {
    const reasons = JSON.stringify(await failedReasons());
    expect(reasons).not.toContain(secret);
    expect(reasons).not.toContain("apikey=");
  });

  it("never writes the query string to a log line, and logs every failure with its endpoint", () => {
    const lines = relay.logs.join("").split("\n");
    for (const line of lines) {
      expect(line).not.toContain(secret);
      expect(line).not.toContain("apikey=");
      expect(line).not.toContain("fetch failed");
    }
    for (const endpoint of Object.values(endpoints)) {
      const failures = lines.filter(
        (line) => /delivery failed; will retry|delivery is a dead letter/.test(line) && line.includes(endpoint),
      );
      // One line per try: a retry, then the dead letter.
      expect(failures).toHaveLength(2);
    }
  });
});
