import { describe, expect, it } from "vitest";
import { freePort } from "../support/free-port.js";
import { startLoad } from "./support/load.js";
import { eventBody, faultScenario, report, waitForAnswers } from "./support/scenario.js";

const events = 3000;

describe("SIGTERM to a relay under load, then a restart", () => {
  const fault = faultScenario();

  it("exits 0 and, with the restarted relay, delivers every event it answered 200", async () => {
    // One port for both relays: the sender keeps posting to the same address.
    const yaml = fault.config({ port: await freePort() });
    const first = await fault.relays.start(yaml);
    const load = startLoad({
      url: () => `${first.url}/webhooks/socialboards`,
      count: events,
      rate: 300,
      body: eventBody,
      retryRefused: true,
    });
    await waitForAnswers(load, events / 3);
    first.kill("SIGTERM");
    const exit = await first.exited;
    const answeredWhileDown = load.answered;
    await fault.relays.start(yaml);
    const result = await fault.waitForEveryDelivery(load);
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
    // A clean stop finishes or hands back every delivery it started: nothing is sent twice.
    expect(result.duplicates).toBe(0);
  });
});
