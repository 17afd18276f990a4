import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type RedisServer, startRedisServer } from "../support/redis.js";
import { uniquePrefix } from "../support/relay.js";
import { waitFor } from "../support/wait.js";
import { type CountingSink, startCountingSink } from "./support/counting-sink.js";
import { startLoad } from "./support/load.js";
import { eventBody, faultConfig, markerOf, relayProcesses, report, waitForEveryDelivery } from "./support/scenario.js";

const events = 3000;

describe("a worker killed with SIGKILL mid-burst", () => {
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

  it("delivers every accepted event to every target once a new worker picks up", async () => {
    const yaml = faultConfig({ redisUrl: redis.url, prefix: uniquePrefix(), sinkUrl: sink.url });
    const start = (role: "ingest" | "worker") => relays.start(yaml, role);
    const [ingest, first] = await Promise.all([start("ingest"), start("worker")]);
    const load = startLoad({
      url: () => `${ingest.url}/webhooks/socialboards`,
      count: events,
      rate: 400,
      body: eventBody,
    });

    // Mid-burst: the worker has delivered some and holds more in hand.
    await waitFor(() => (sink.received.get("/a")?.size ?? 0) > events / 4, { what: "deliveries", timeoutMs: 30_000 });
    first.kill("SIGKILL");
    await first.exited;
    await start("worker");

    await load.done;
    const result = await waitForEveryDelivery(sink, load.accepted);
    await report("worker kill -9", load, events, result);
    expect(load.accepted.size).toBe(events);
    expect(result.missing).toEqual({ "/a": 0, "/b": 0 });
  }, 120_000);
});
