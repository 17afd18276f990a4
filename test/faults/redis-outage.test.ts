import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis.js";
import { uniquePrefix } from "../support/relay.js";
import { waitFor } from "../support/wait.js";
import { startCountingSink } from "./support/counting-sink.js";
import { startLoad } from "./support/load.js";
import {
  eventBody,
  faultConfig,
  markerOf,
  relayProcesses,
  report,
  sleep,
  waitForEveryDelivery,
} from "./support/scenario.js";

const events = 3000;
const outageMs = 10_000;

/** Redis stopped for 10 s in the middle of a burst, then started again with what it held (AOF). */
describe("Redis stopped mid-burst", () => {
  let redis: RedisServer;
  const relays = relayProcesses();
  const dirs: string[] = [];

  beforeAll(async () => {
    redis = await startRedisServer({ persist: true });
  });
  afterAll(async () => {
    await relays.killAll();
    await redis?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  const burstWithOutage = async (spool: boolean) => {
    const sink = await startCountingSink(markerOf);
    try {
      const dir = mkdtempSync(join(tmpdir(), "relay-fault-spool-"));
      dirs.push(dir);
      const yaml = faultConfig({
        redisUrl: redis.url,
        prefix: uniquePrefix(),
        sinkUrl: sink.url,
        spool: spool ? { dir } : undefined,
      });
      const relay = await relays.start(yaml);
      const load = startLoad({
        url: () => `${relay.url}/webhooks/socialboards`,
        count: events,
        rate: 200,
        body: eventBody,
      });
      await waitFor(() => load.answered > events / 5, { what: "the burst to be under way", timeoutMs: 30_000 });
      await redis.stop();
      const answeredAtStop = load.answered;
      await sleep(outageMs);
      const answeredDuringOutage = load.answered - answeredAtStop;
      await redis.start();
      await load.done;
      const result = await waitForEveryDelivery(sink, load.accepted, 90_000);
      await report(
        `Redis stopped ${outageMs / 1000} s, spool ${spool ? "on" : "off"}`,
        load,
        events,
        result,
        `${answeredDuringOutage} answered during the outage`,
      );
      expect(answeredDuringOutage).toBeGreaterThan(0);
      expect(result.missing).toEqual({ "/a": 0, "/b": 0 });
      return load;
    } finally {
      await sink.close();
    }
  };

  it("with a spool, answers every event 200 and delivers every one", async () => {
    const load = await burstWithOutage(true);
    expect(load.accepted.size).toBe(events);
  });

  it("without a spool, answers 503 during the outage and delivers every event that got a 200", async () => {
    const load = await burstWithOutage(false);
    expect(load.statuses.get(503) ?? 0).toBeGreaterThan(0);
    expect(load.accepted.size + (load.statuses.get(503) ?? 0)).toBe(events);
  });
});
