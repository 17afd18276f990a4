import { describe, expect, it } from "vitest";
import { startLoad } from "./support/load.js";
import { eventBody, faultScenario, report, sleep } from "./support/scenario.js";

const events = 3000;
/** Half a minute of refused connections; the test config retries every second, 60 times. */
const downMs = 30_000;

describe("a target refusing connections mid-burst", () => {
  const fault = faultScenario();

  it(`delivers every accepted event once the target is back after ${downMs / 1000} s`, async () => {
    const relay = await fault.relays.start(fault.config({ retryDelay: "1s" }));
    const load = startLoad({
      url: () => `${relay.url}/webhooks/socialboards`,
      count: events,
      rate: 300,
      body: eventBody,
    });
    await fault.waitForDeliveries(events / 5);
    await fault.sink.refuse();
    const deliveredBefore = fault.sink.received.get("/a")?.size ?? 0;
    await sleep(downMs);
    await fault.sink.accept();
    const result = await fault.waitForEveryDelivery(load);
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
