import { describe, expect, it } from "vitest";
import { startLoad } from "./support/load.js";
import { eventBody, faultScenario, report, sleep, waitForAnswers } from "./support/scenario.js";

const events = 3000;
const outageMs = 10_000;

/** Redis stopped for 10 s in the middle of a burst, then started again with what it held (AOF). */
describe("Redis stopped mid-burst", () => {
  const fault = faultScenario({ persist: true });

  const burstWithOutage = async (spool: boolean) => {
    const relay = await fault.relays.start(fault.config({ spool: spool ? { dir: fault.spoolDir() } : undefined }));
    const load = startLoad({
      url: () => `${relay.url}/webhooks/socialboards`,
      count: events,
      rate: 200,
      body: eventBody,
    });
    await waitForAnswers(load, events / 5);
    await fault.redis.stop();
    const answeredAtStop = load.answered;
    await sleep(outageMs);
    const answeredDuringOutage = load.answered - answeredAtStop;
    await fault.redis.start();
    const result = await fault.waitForEveryDelivery(load);
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
