import { readFileSync } from "node:fs";
import type { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryJob } from "../src/queue/jobs.js";
import { Mutes, resolveMuteSubject } from "../src/queue/mutes.js";
import { openDeliveryQueue, relayKeys } from "../src/queue/queues.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { scrape } from "./support/metrics.js";
import { waitForQuietQueues } from "./support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = JSON.parse(
  readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8"),
);
/** Built at run time, so it reads as no secret to a scanner. */
const adminToken = ["mute", "admin", String(process.pid)].join("-");

/**
 * Muting a target or a route (`ticket-relay mute`, `/admin/mutes`): a real relay delivering to
 * an HTTP sink, with the mutes in the relay's own Redis.
 */
describe("muting", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let queue: Queue<DeliveryJob>;
  let mutes: Mutes;
  let prefix: string;

  beforeAll(async () => {
    sink = await startHttpSink();
  });

  afterEach(async () => {
    await relay?.close();
    await queue?.close();
    sink.reset();
  });

  afterAll(async () => {
    await sink?.close();
  });

  const start = async () => {
    prefix = uniquePrefix();
    const yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
admin: { token: "\${ADMIN_TOKEN}" }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - { name: everything-to-crm, to: [crm] }
`;
    relay = await startTestRelay(yaml, { env: { ADMIN_TOKEN: adminToken } });
    queue = openDeliveryQueue({ url: redis.url, prefix });
    mutes = new Mutes(redis.client, relayKeys(prefix), queue);
  };
  /** Webhooks for tickets first…first+count-1, one delivery each. */
  const post = async (count: number, first = 1) => {
    for (let ticket = first; ticket < first + count; ticket++) {
      const body = { ...statusChange, Events: [{ ...statusChange.Events[0], TicketId: ticket }] };
      const response = await fetch(`${relay.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      expect(response.status).toBe(200);
    }
  };
  const logLines = (message: string) =>
    relay.logs.map((line) => JSON.parse(line)).filter((entry) => entry.msg === message);
  const heldCount = (id: string) => redis.client.scard(relayKeys(prefix).mutedDeliveries(id));
  const untilHeld = (id: string, count: number) =>
    waitFor(async () => (await heldCount(id)) === count && (await queue.getDelayedCount()) === count, {
      what: `${count} held deliveries`,
    });

  it("holds deliveries to a target muted for 2 s and sends each once when the mute ends, using no try", async () => {
    await start();
    const { mute } = await mutes.mute({ kind: "target", name: "crm" }, { forMs: 2000, reason: "maintenance" });
    await post(3);
    await untilHeld("target:crm", 3);
    expect(sink.requests).toHaveLength(0);

    const arrived = await sink.waitForRequests(3, 15_000);
    const endedAt = Date.parse(mute.until);
    expect(Date.now()).toBeGreaterThanOrEqual(endedAt);
    expect(arrived.map((request) => (request.json as { event: { ticketId: string } }).event.ticketId).sort()).toEqual([
      "1",
      "2",
      "3",
    ]);
    await waitFor(() => logLines("delivered").length === 3, { what: "3 delivered lines" });
    expect(logLines("delivered").map((entry) => entry.attempt)).toEqual([1, 1, 1]);
    // One line per held delivery, with what holds it, however often it looked again.
    const held = logLines("delivery held: muted");
    expect(held).toHaveLength(3);
    expect(held[0]).toMatchObject({ target: "crm", mute: "target:crm", until: mute.until });
    // Nothing is sent twice: once the relay has nothing left to do, still three.
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(3);
    expect(await mutes.active()).toEqual([]);
  });

  it("drops deliveries while a --drop mute lasts, with a log line, and sends again after unmute", async () => {
    await start();
    await mutes.mute({ kind: "target", name: "crm" }, { forMs: 3_600_000, drop: true });
    await post(2);
    await waitFor(() => logLines("delivery dropped: muted").length === 2, { what: "2 dropped lines" });
    expect(logLines("delivery dropped: muted")[0]).toMatchObject({ target: "crm", mute: "target:crm" });
    expect(await queue.getJobCounts("delayed", "waiting", "active", "failed")).toEqual({
      delayed: 0,
      waiting: 0,
      active: 0,
      failed: 0,
    });
    expect(sink.requests).toHaveLength(0);

    await mutes.unmute({ kind: "target", name: "crm" });
    await post(1, 3);
    await sink.waitForRequests(1);
  });

  it("releases held deliveries at once on unmute, each once", async () => {
    await start();
    await mutes.mute({ kind: "target", name: "crm" }, { forMs: 3_600_000 });
    await post(2);
    await untilHeld("target:crm", 2);
    expect((await mutes.list())[0]).toMatchObject({ kind: "target", name: "crm", held: 2 });

    expect(await mutes.unmute({ kind: "target", name: "crm" })).toEqual({ removed: true, released: 2 });
    await sink.waitForRequests(2, 5000);
    expect(await mutes.unmute({ kind: "target", name: "crm" })).toEqual({ removed: false, released: 0 });
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(2);
    expect(logLines("delivered").map((entry) => entry.attempt)).toEqual([1, 1]);
  });

  it("holds a delivery until the new end when its mute is replaced by a shorter one", async () => {
    await start();
    await mutes.mute({ kind: "target", name: "crm" }, { forMs: 3_600_000 });
    await post(1);
    await untilHeld("target:crm", 1);
    const { mute, replaced } = await mutes.mute({ kind: "target", name: "crm" }, { forMs: 1500 });
    expect(replaced).toBe(true);
    const [arrived] = await sink.waitForRequests(1, 10_000);
    expect(arrived).toBeDefined();
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(mute.until));
  });

  it("mutes a route by its name over /admin/mutes, behind the admin token, and shows it in the metrics", async () => {
    await start();
    /** `token` null: no Authorization header. */
    const admin = (method: string, body?: unknown, token: string | null = adminToken) =>
      fetch(`${relay.url}/admin/mutes`, {
        method,
        headers: {
          ...(token !== null && { authorization: `Bearer ${token}` }),
          ...(body !== undefined && { "content-type": "application/json" }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
      });

    for (const [method, body] of [["GET"], ["POST", { route: "everything-to-crm", for: "1h" }], ["DELETE", {}]]) {
      for (const token of [null, `${adminToken}x`]) {
        const refused = await admin(method as string, body, token);
        expect(refused.status).toBe(401);
      }
    }
    expect(await mutes.active()).toEqual([]);

    const created = await admin("POST", { route: "everything-to-crm", for: "1h", reason: "release" });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({
      mute: { kind: "route", name: "everything-to-crm", reason: "release", drop: false },
      replaced: false,
    });
    expect((await admin("POST", { route: "everything-to-cmr", for: "1h" })).status).toBe(404);
    expect((await admin("POST", { target: "crm" })).status).toBe(400);

    await post(1);
    await untilHeld("route:everything-to-crm", 1);
    const listed = (await (await admin("GET")).json()) as { mutes: { name: string; held: number }[] };
    expect(listed.mutes).toMatchObject([{ kind: "route", name: "everything-to-crm", held: 1 }]);
    const metrics = await scrape(`${relay.url}/metrics`);
    const left = metrics.value("ticket_relay_muted", { kind: "route", name: "everything-to-crm" });
    expect(left).toBeGreaterThan(3500);
    expect(left).toBeLessThanOrEqual(3600);

    const removed = await admin("DELETE", { route: "everything-to-crm" });
    expect(await removed.json()).toEqual({ unmuted: true, released: 1 });
    await sink.waitForRequests(1, 5000);
    expect((await scrape(`${relay.url}/metrics`)).samples("ticket_relay_muted")).toEqual([]);
  });
});

describe("what a mute name refers to", () => {
  const config = { targets: ["crm", "office"], routes: ["office", "night", "routes[2]"] };
  it.each([
    ["crm", { kind: "target", name: "crm" }],
    ["night", { kind: "route", name: "night" }],
    ["routes[2]", { kind: "route", name: "routes[2]" }],
    ["target:office", { kind: "target", name: "office" }],
    ["route:office", { kind: "route", name: "office" }],
    ["office", { problem: '"office" is both a target and a route: say target:office or route:office' }],
    ["nigth", { problem: 'no target or route "nigth" in the config — did you mean "night"?' }],
    ["route:crm", { problem: 'no route "crm" in the config' }],
  ])("reads %s", (given, expected) => {
    expect(resolveMuteSubject(given, config)).toEqual(expected);
  });

  it("finds a muted target that has left the config, to unmute it", () => {
    const muted = [{ kind: "target" as const, name: "old-crm" }];
    expect(resolveMuteSubject("old-crm", config, muted)).toEqual({ kind: "target", name: "old-crm" });
  });
});
