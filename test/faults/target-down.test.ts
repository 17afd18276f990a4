import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis.js";
import { uniquePrefix } from "../support/relay.js";
import { waitFor } from "../support/wait.js";
import { type CountingSink, startCountingSink } from "./support/counting-sink.js";
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
/** Shorter than a real outage; the test config retries every second, 60 times, so it is waited out alike. */
const downMs = 15_000;

describe("a target refusing connections mid-burst", () => {
  let redis: RedisServer;
  let sink: CountingSink;
  const relays = relayProcesses();

  beforeAll(async () => {
    [redis, sink] = await Promise.all([startRedisServer(), startCountingSink(markerOf)]);
  });
  afterAll(async () => {
    await relays.killAll();
    await sink?.close();
    await redis?.stop();
  });

  it(`delivers every accepted event once the target is back after ${downMs / 1000} s`, async () => {
    const yaml = faultConfig({ redisUrl: redis.url, prefix: uniquePrefix(), sinkUrl: sink.url, retryDelay: "1s" });
    const relay = await relays.start(yaml);
    const load = startLoad({
      url: () => `${relay.url}/webhooks/socialboards`,
      count: events,
      rate: 300,
      body: eventBody,
    });
    await waitFor(() => (sink.received.get("/a")?.size ?? 0) > events / 5, { what: "deliveries", timeoutMs: 30_000 });
    await sink.refuse();
    const deliveredBefore = sink.received.get("/a")?.size ?? 0;
    await sleep(downMs);
    await sink.accept();
    await load.done;
    const result = await waitForEveryDelivery(sink, load.accepted, 90_000);
    await report(
      `target down ${downMs / 1000} s`,
      load,
      events,
      result,
      `${events - deliveredBefore} events waited for the target`,
    );
    expect(load.accepted.size).toBe(events);
    expect(result.missing).toEqual({ "/a": 0, "/b": 0 });
  });
});
