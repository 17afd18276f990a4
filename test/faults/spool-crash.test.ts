import { appendFileSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeRecord } from "../../src/spool/record-format.js";
import { freePort } from "../support/free-port.js";
import { type RedisServer, startRedisServer } from "../support/redis.js";
import { uniquePrefix } from "../support/relay.js";
import { waitFor } from "../support/wait.js";
import { type CountingSink, startCountingSink } from "./support/counting-sink.js";
import { startLoad } from "./support/load.js";
import { eventBody, faultConfig, markerOf, relayProcesses, report, waitForEveryDelivery } from "./support/scenario.js";

const events = 3000;

/** Redis is away, so every webhook goes to the spool; the relay is killed while it writes. */
describe("a relay killed with SIGKILL while writing its spool", () => {
  let redis: RedisServer;
  let sink: CountingSink;
  const relays = relayProcesses();
  const dir = mkdtempSync(join(tmpdir(), "relay-fault-spool-"));

  beforeAll(async () => {
    [redis, sink] = await Promise.all([startRedisServer(), startCountingSink(markerOf)]);
  });
  afterAll(async () => {
    await relays.killAll();
    await sink?.close();
    await redis?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it("delivers every event it answered 200 for, once Redis is back after a restart", async () => {
    const port = await freePort();
    const yaml = faultConfig({ redisUrl: redis.url, prefix: uniquePrefix(), sinkUrl: sink.url, port, spool: { dir } });
    await redis.stop();
    const first = await relays.start(yaml);
    const load = startLoad({
      url: () => `http://127.0.0.1:${port}/webhooks/socialboards`,
      count: events,
      connections: 32,
      rate: 600,
      body: eventBody,
      retryRefused: true,
    });
    await waitFor(() => load.answered > events / 3, { what: "the burst to be under way", timeoutMs: 30_000 });
    first.kill("SIGKILL");
    await first.exited;
    const answeredBeforeKill = load.answered;
    // A killed process cannot tear a write the kernel already took; a power cut can. Leave what
    // one leaves: the start of a record that never got its 200.
    const newest = readdirSync(dir)
      .filter((name) => name.startsWith("segment-"))
      .sort()
      .at(-1);
    appendFileSync(join(dir, newest ?? "missing"), encodeRecord(Buffer.from(eventBody(events + 1))).subarray(0, 300));
    const second = await relays.start(yaml);
    await load.done;
    expect(second.lines.some((line) => line.includes("spool holds webhooks from an earlier run"))).toBe(true);

    await redis.start();
    const result = await waitForEveryDelivery(sink, load.accepted, 90_000);
    const tornTail = second.lines.filter((line) => line.includes("no intact record")).length;
    await report(
      "relay kill -9 while spooling",
      load,
      events,
      result,
      `${answeredBeforeKill} answered before the kill, torn tails skipped at restart: ${tornTail}`,
    );
    expect(tornTail).toBeGreaterThan(0);
    expect(load.accepted.size).toBeGreaterThan(answeredBeforeKill);
    expect(result.missing).toEqual({ "/a": 0, "/b": 0 });
  });
});
