import { appendFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { encodeRecord } from "../../src/spool/record-format.js";
import { freePort } from "../support/free-port.js";
import { startLoad } from "./support/load.js";
import { eventBody, faultScenario, report, waitForAnswers } from "./support/scenario.js";

const events = 3000;

/** Redis is away, so every webhook goes to the spool; the relay is killed while it writes. */
describe("a relay killed with SIGKILL while writing its spool", () => {
  const fault = faultScenario();

  it("delivers every event it answered 200 for, once Redis is back after a restart", async () => {
    const port = await freePort();
    const dir = fault.spoolDir();
    const yaml = fault.config({ port, spool: { dir } });
    await fault.redis.stop();
    const first = await fault.relays.start(yaml);
    const load = startLoad({
      url: () => `http://127.0.0.1:${port}/webhooks/socialboards`,
      count: events,
      connections: 32,
      rate: 600,
      body: eventBody,
      retryRefused: true,
    });
    await waitForAnswers(load, events / 3);
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
    const second = await fault.relays.start(yaml);
    await load.done;
    expect(second.lines.some((line) => line.includes("spool holds webhooks from an earlier run"))).toBe(true);

    await fault.redis.start();
    const result = await fault.waitForEveryDelivery(load);
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
