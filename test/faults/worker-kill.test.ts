import { describe, expect, it } from "vitest";
import { startLoad } from "./support/load.js";
import { eventBody, faultScenario, report, workerConcurrency } from "./support/scenario.js";

const events = 3000;

describe("a worker killed with SIGKILL mid-burst", () => {
  const fault = faultScenario();

  it("delivers every accepted event to every target once a new worker picks up", async () => {
    const yaml = fault.config();
    const start = (role: "ingest" | "worker") => fault.relays.start(yaml, role);
    const [ingest, first] = await Promise.all([start("ingest"), start("worker")]);
    const load = startLoad({
      url: () => `${ingest.url}/webhooks/socialboards`,
      count: events,
      rate: 400,
      body: eventBody,
    });

    // Mid-burst: the worker has delivered some and holds more in hand.
    await fault.waitForDeliveries(events / 4);
    first.kill("SIGKILL");
    await first.exited;
    await start("worker");

    const result = await fault.waitForEveryDelivery(load);
    await report("worker kill -9", load, events, result);
    expect(load.accepted.size).toBe(events);
    expect(result.missing).toEqual({ "/a": 0, "/b": 0 });
    // Sent twice at most: a delivery the killed worker had sent and not marked sent yet. It had
    // at most workers.concurrency deliveries in hand, each one event to one target.
    expect(result.duplicates).toBeLessThanOrEqual(workerConcurrency);
  }, 120_000);
});
