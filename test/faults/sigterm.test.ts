import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { type RedisServer, startRedisServer } from "../support/redis.js";
import { uniquePrefix } from "../support/relay.js";
import { waitFor } from "../support/wait.js";
import { type CountingSink, startCountingSink } from "./support/counting-sink.js";
import { startLoad } from "./support/load.js";
import { eventBody, faultConfig, markerOf, relayProcesses, report, waitForEveryDelivery } from "./support/scenario.js";

const events = 3000;

describe("SIGTERM to a relay under load, then a restart", () => {
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

  it("exits 0 and, with the restarted relay, delivers every event it answered 200", async () => {
    // One port for both relays: the sender keeps posting to the same address.
    const port = await freePort();
    const yaml = faultConfig({ redisUrl: redis.url, prefix: uniquePrefix(), sinkUrl: sink.url, port });
    const first = await relays.start(yaml);
    const load = startLoad({
      url: () => `${first.url}/webhooks/socialboards`,
      count: events,
      rate: 300,
      body: eventBody,
      retryRefused: true,
    });
    await waitFor(() => load.answered > events / 3, { what: "the burst to be under way", timeoutMs: 30_000 });
    first.kill("SIGTERM");
    const exit = await first.exited;
    const answeredWhileDown = load.answered;
    await relays.start(yaml);
    await load.done;
    const result = await waitForEveryDelivery(sink, load.accepted, 90_000);
    await report(
      "SIGTERM and restart",
      load,
      events,
      result,
      `exit ${exit.code}, ${answeredWhileDown} answered before the restart`,
    );
    expect(exit.code).toBe(0);
    // The restarted relay took the rest of the burst.
    expect(load.accepted.size).toBeGreaterThan(answeredWhileDown);
    expect(result.missing).toEqual({ "/a": 0, "/b": 0 });
  });
});
