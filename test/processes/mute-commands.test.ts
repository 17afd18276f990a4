import { readFileSync } from "node:fs";
import type { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryJob } from "../../src/queue/jobs.js";
import { openDeliveryQueue } from "../../src/queue/queues.js";
import { runCli, writeConfig } from "../support/cli-run.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/**
 * `ticket-relay mute`, `unmute`, `mutes` and `targets list` as a user runs them at a shell,
 * against the Redis of a real relay delivering to an HTTP sink.
 */
describe("the mute commands", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let queue: Queue<DeliveryJob>;
  let configFile: string;

  beforeAll(async () => {
    sink = await startHttpSink();
    const prefix = uniquePrefix();
    const yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - { name: everything-to-crm, to: [crm] }
`;
    relay = await startTestRelay(yaml);
    configFile = writeConfig(yaml);
    queue = openDeliveryQueue({ url: redis.url, prefix });
  });

  afterAll(async () => {
    await relay?.close();
    await queue?.close();
    await sink?.close();
  });

  const cli = (...args: string[]) => runCli([...args, "--config", configFile], { timeoutMs: 60_000 });

  it("mutes a target, lists it, holds its delivery, and unmute sends it at once", async () => {
    const muted = await cli("mute", "crm", "--for", "1h", "--reason", "noisy integration");
    expect(muted.stderr).toBe("");
    expect(muted.code).toBe(0);
    expect(muted.stdout).toMatch(
      /^muted: target crm until \d{4}-\d\d-\d\dT[\d:.]+Z; its deliveries are held, and sent when the mute ends\n$/,
    );
    // The relay's workers have read no mutes yet, so this one applies at once.
    await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange,
    });
    await waitFor(async () => (await queue.getDelayedCount()) === 1, { what: "a held delivery" });

    const listed = await cli("mutes");
    const targets = await cli("targets", "list");
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(
      /^KIND +NAME +UNTIL +DELIVERIES +HELD +REASON\ntarget +crm +\S+Z \(59m\d+s left\) +hold +1 +noisy integration\n$/,
    );
    expect(targets.code).toBe(0);
    expect(targets.stdout).toMatch(
      /^no disabled targets\n\nMUTED TARGET +UNTIL +DELIVERIES +REASON\ncrm +\S+Z \(59m\d+s left\) +held \(1\) +noisy integration\n$/,
    );
    expect(sink.requests).toHaveLength(0);

    const unmuted = await cli("unmute", "crm");
    expect([unmuted.code, unmuted.stdout, unmuted.stderr]).toEqual([
      0,
      "unmuted: target crm; 1 held delivery released\n",
      "",
    ]);
    await sink.waitForRequests(1, 5000);

    const again = await cli("unmute", "crm");
    expect([again.code, again.stdout]).toEqual([0, "target crm was not muted\n"]);
    const none = await cli("mutes");
    expect([none.code, none.stdout]).toEqual([0, "no mutes\n"]);
  }, 240_000);

  it("names what a mute applies to in JSON, and refuses unknown names (exit 1) and missing options (exit 2)", async () => {
    const route = await cli("mute", "everything-to-crm", "--for", "30m", "--drop");
    const unknown = await cli("mute", "crn", "--for", "1h");
    const noLength = await cli("mute", "crm");
    expect([route.code, route.stdout]).toEqual([
      0,
      expect.stringMatching(/^muted: route everything-to-crm until \S+Z; its deliveries are dropped\n$/),
    ]);
    expect([unknown.code, unknown.stdout]).toEqual([1, ""]);
    expect(unknown.stderr).toBe(`no target or route "crn" in the config — did you mean "crm"? (${configFile})\n`);
    expect(noLength.code).toBe(2);
    expect(noLength.stderr).toMatch(/^mute needs --for, how long: e\.g\. --for 1h\n/);

    const listed = JSON.parse((await cli("mutes", "--json")).stdout);
    expect(listed).toEqual([
      {
        kind: "route",
        name: "everything-to-crm",
        until: expect.any(String),
        since: expect.any(String),
        drop: true,
        held: 0,
      },
    ]);
    expect(Date.parse(listed[0].until) - Date.parse(listed[0].since)).toBe(30 * 60_000);
    expect((await cli("unmute", "route:everything-to-crm")).stdout).toBe(
      "unmuted: route everything-to-crm; 0 held deliveries released\n",
    );
  }, 240_000);
});
