import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { waitForQuietQueues } from "./support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");
const titled = (title: string) => statusChange.replace("Cat is ill", title);

/** Redis goes away under a relay with a spool: webhooks are written to disk, then drained. */
describe("when Redis is down and a spool is configured", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  const dir = mkdtempSync(join(tmpdir(), "relay-spool-e2e-"));

  beforeAll(async () => {
    sink = await startHttpSink();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
spool: { dir: "${dir}", maxBytes: 1gb }
workers: { concurrency: 1 }
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
    rmSync(dir, { recursive: true, force: true });
  });

  const post = (body: string) =>
    fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
  const spoolGauge = async (unit: string) => {
    const text = await (await fetch(`${relay.url}/metrics`)).text();
    return Number(new RegExp(`^ticket_relay_spool_${unit} (\\S+)$`, "m").exec(text)?.[1]);
  };
  const titles = () =>
    sink.requests.map((request) => (request.json as { payload: { Ticket: { Title: string } } }).payload.Ticket.Title);

  it("answers 200 from the spool, then delivers every spooled webhook after Redis is back, in order, once", async () => {
    expect((await post(titled("before"))).status).toBe(200);
    await sink.waitForRequests(1);
    expect(await spoolGauge("records")).toBe(0);

    await redis.stop();
    const answers = [];
    for (let i = 0; i < 20; i++) answers.push(await post(titled(`spooled ${i}`)));
    // The platform's retry of one it already sent: recognised when it is drained.
    answers.push(await post(titled("spooled 19")));
    expect(answers.map((answer) => answer.status)).toEqual(answers.map(() => 200));
    const bodies = (await Promise.all(answers.map((answer) => answer.json()))) as { spooled?: boolean }[];
    expect(bodies.every((body) => body.spooled === true)).toBe(true);

    const ready = await fetch(`${relay.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ status: "degraded: spooling" });
    expect(await spoolGauge("records")).toBe(21);
    expect(await spoolGauge("bytes")).toBeGreaterThan(21 * statusChange.length * 0.5);

    await redis.start();
    await sink.waitForRequests(21, 20_000);
    await waitFor(async () => (await spoolGauge("records")) === 0, { what: "the spool to drain" });
    const readiness = async () => ((await (await fetch(`${relay.url}/readyz`)).json()) as { status: string }).status;
    await waitFor(async () => (await readiness()) === "ready", {
      what: "readyz to say ready",
    });
    // Drained and routed, nothing left to send: a duplicate would have come by now.
    await waitForQuietQueues(relay.config.redis);
    const expected = ["before", ...Array.from({ length: 20 }, (_, i) => `spooled ${i}`)];
    expect(titles()).toEqual(expected);
  }, 40_000);

  it("takes webhooks straight into Redis again once the spool is empty", async () => {
    const answer = await post(titled("after"));
    expect(answer.status).toBe(200);
    expect(((await answer.json()) as { spooled?: boolean }).spooled).toBeUndefined();
    await sink.waitForRequests(22);
  });
});

describe("when Redis is down and the spool is full", () => {
  const redis = useRedis();
  let relay: TestRelay;
  const dir = mkdtempSync(join(tmpdir(), "relay-spool-full-"));

  beforeAll(async () => {
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
spool: { dir: "${dir}", maxBytes: 8kb }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
`);
  });

  afterAll(async () => {
    await relay?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("answers 503 past maxBytes, and readyz says the relay cannot take webhooks", async () => {
    await redis.stop();
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      const answer = await fetch(`${relay.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: titled(`full ${i}`),
      });
      statuses.push(answer.status);
    }
    expect(statuses.slice(0, 2)).toEqual([200, 200]);
    expect(statuses.at(-1)).toBe(503);
    expect((await fetch(`${relay.url}/readyz`)).status).toBe(503);
  });
});
