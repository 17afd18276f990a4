import type { Job } from "bullmq";
import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import { conversationOf, type RelayEvent } from "../src/events.js";
import { Pacer } from "../src/queue/delivery/pacing.js";
import { SentMarks } from "../src/queue/delivery/sent-marks.js";
import { lookAgainMs, TicketOrder } from "../src/queue/delivery/ticket-order.js";
import type { DeliveryJob } from "../src/queue/jobs.js";
import { relayKeys } from "../src/queue/queues.js";
import { uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";

const redis = useRedis();

describe("pacing per key", () => {
  it("gives the deliveries of one key moments everyMs apart, and another key its own", async () => {
    const pacer = new Pacer(redis.client, relayKeys(uniquePrefix()));
    const channel = { key: "slack:#one", everyMs: 1000 };
    expect(await pacer.askMoment(channel, "a")).toBe(0);
    const second = await pacer.askMoment(channel, "b");
    const third = await pacer.askMoment(channel, "c");
    expect(second).toBeGreaterThan(900);
    expect(third - second).toBeGreaterThan(900);
    expect(await pacer.askMoment({ key: "slack:#two", everyMs: 1000 }, "d")).toBe(0);
  });

  it("lets a delivery go when it comes back at its moment, and tells one back early how long is left", async () => {
    const pacer = new Pacer(redis.client, relayKeys(uniquePrefix()));
    const channel = { key: "slack:#one", everyMs: 300 };
    await pacer.askMoment(channel, "a");
    expect(await pacer.askMoment(channel, "b")).toBeGreaterThan(200);
    expect(await pacer.askMoment(channel, "b")).toBeGreaterThan(100);
    await new Promise((resolve) => setTimeout(resolve, 320));
    expect(await pacer.askMoment(channel, "b")).toBe(0);
  });

  it("moves the deliveries waiting on a key behind the one refused with a 429, in their order", async () => {
    const pacer = new Pacer(redis.client, relayKeys(uniquePrefix()));
    const channel = { key: "slack:#one", everyMs: 100 };
    await pacer.askMoment(channel, "a");
    const waits = [await pacer.askMoment(channel, "b"), await pacer.askMoment(channel, "c")];
    expect(waits[0]).toBeLessThan(waits[1] as number);

    const refused = await pacer.rateLimited(channel, "a", 1000);
    expect(refused).toBeGreaterThan(900);
    const [b, c] = [await pacer.askMoment(channel, "b"), await pacer.askMoment(channel, "c")];
    expect(b).toBeGreaterThan(refused);
    expect(c).toBeGreaterThan(b);
    expect(await pacer.askMoment(channel, "d")).toBeGreaterThan(c);
  });
});

describe("per-ticket order", () => {
  const prefix = uniquePrefix();
  const keys = relayKeys(prefix);
  /** The sent marks the deliveries' ends write, as the pipeline hands them over. */
  const marks = () => new SentMarks(redis.client, keys);
  let received = Date.parse("2026-05-01T10:00:00.000Z");
  /** A delivery job of ticket 7 to "slack", as the pipeline hands it over; `exists` writes its BullMQ hash. */
  const delivery = async (name: string, occurredAt?: string) => {
    received += 1000;
    const event: RelayEvent = {
      id: `${name}.0`,
      source: "sb",
      sourceType: "socialboards",
      type: "reply_creation",
      known: true,
      receivedAt: new Date(received).toISOString(),
      ticketId: "7",
      raw: {},
      ...(occurredAt ? { occurredAt } : {}),
    };
    const id = `${name}.0.slack`;
    await redis.client.hset(keys.deliveryJob(id), "data", "{}");
    return { id, data: { event, targetId: "slack", route: "all" } } as unknown as Job<DeliveryJob>;
  };
  const conversation = conversationOf({ source: "sb", ticketId: "7" } as RelayEvent);
  if (!conversation) throw new Error("ticket 7 belongs to no conversation");

  it("holds a delivery until the earlier ones of its ticket finish, then finds late what is older than delivered", async () => {
    const order = new TicketOrder(redis.client, keys, undefined, 200);
    const first = await delivery("first", "2026-05-01T09:00:00.000Z");
    const second = await delivery("second", "2026-05-01T09:10:00.000Z");
    const third = await delivery("third", "2026-05-01T09:05:00.000Z");
    await order.place([first, second, third].map((job) => ({ data: job.data, opts: { jobId: job.id } })));

    expect(await order.askTurn(third, conversation)).toEqual({ kind: "wait", earlier: first.id, rank: 2 });
    expect(await order.askTurn(first, conversation)).toEqual({ kind: "go" });
    await order.endTurn(first, conversation, marks().markOf(first.id ?? "", "HTTP 200"));
    expect(await order.askTurn(third, conversation)).toEqual({ kind: "wait", earlier: second.id, rank: 1 });
    expect(await order.askTurn(second, conversation)).toEqual({ kind: "go" });
    await order.endTurn(second, conversation, marks().markOf(second.id ?? "", "HTTP 200"));
    // Delivered at 09:10; the third happened at 09:05.
    expect(await order.askTurn(third, conversation)).toEqual({
      kind: "late",
      newerAt: Date.parse("2026-05-01T09:10:00.000Z"),
    });
    await order.endTurn(third, conversation, marks().markOf(third.id ?? "", "HTTP 200"));
    // Each one's sent mark was written with the end of its turn, so a re-run would not send it again.
    const sent = new SentMarks(redis.client, keys);
    expect(await Promise.all([first, second, third].map((job) => sent.find(job.id ?? "")))).toEqual([
      "HTTP 200",
      "HTTP 200",
      "HTTP 200",
    ]);
  });

  it("places new deliveries behind the earlier ones of their ticket, parked for longer the further back they are", async () => {
    const order = new TicketOrder(redis.client, keys, undefined, 200);
    // Placed before their jobs exist: deliveries placed together count as existing.
    const jobs = [];
    for (const name of ["placed-a", "placed-b", "placed-c"]) {
      const job = await delivery(name);
      await redis.client.del(keys.deliveryJob(job.id ?? ""));
      jobs.push(job);
    }
    const placing = jobs.map((job) => ({ data: job.data, opts: { jobId: job.id } }));
    expect(await order.place(placing)).toEqual([0, lookAgainMs(1), lookAgainMs(2)]);
    // The first finishes and names the next held one, to be woken at once.
    const [a, b, c] = jobs as [Job<DeliveryJob>, Job<DeliveryJob>, Job<DeliveryJob>];
    await order.endTurn(a, conversation, false);
    expect(await order.askTurn(b, conversation)).toEqual({ kind: "go" });
    expect(lookAgainMs(1)).toBe(1000);
    expect(lookAgainMs(100_000)).toBe(600_000);
    await order.endTurn(b, conversation, false);
    await order.endTurn(c, conversation, false);
  });

  it("answers the turns and their ends asked for in one tick of the event loop as if asked one after another", async () => {
    const order = new TicketOrder(redis.client, keys, undefined, 200);
    const first = await delivery("together-first", "2026-05-01T11:00:00.000Z");
    const second = await delivery("together-second", "2026-05-01T10:50:00.000Z");
    await order.place([first, second].map((job) => ({ data: job.data, opts: { jobId: job.id } })));

    // One script call for both: the second sees the first still pending ahead of it.
    expect(await Promise.all([order.askTurn(second, conversation), order.askTurn(first, conversation)])).toEqual([
      { kind: "wait", earlier: first.id, rank: 1 },
      { kind: "go" },
    ]);
    // The first finishes, delivered at 11:00, in the same call in which the second looks again.
    await Promise.all([
      order.endTurn(first, conversation, marks().markOf(first.id ?? "", "HTTP 200")),
      order.askTurn(second, conversation),
    ]);
    expect(await order.askTurn(second, conversation)).toEqual({
      kind: "late",
      newerAt: Date.parse("2026-05-01T11:00:00.000Z"),
    });
    await order.endTurn(second, conversation, marks().markOf(second.id ?? "", "HTTP 200"));
  });

  it("passes an earlier delivery once it has been failing longer than the bound, or once its job is gone", async () => {
    const order = new TicketOrder(redis.client, keys, undefined, 200);
    const failing = await delivery("failing");
    const removed = await delivery("removed");
    const later = await delivery("later");
    await order.place([failing, removed, later].map((job) => ({ data: job.data, opts: { jobId: job.id } })));

    await order.failing(failing, conversation);
    expect(await order.askTurn(later, conversation)).toEqual({ kind: "wait", earlier: failing.id, rank: 2 });
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(await order.askTurn(later, conversation)).toEqual({ kind: "wait", earlier: removed.id, rank: 2 });
    await redis.client.del(keys.deliveryJob(removed.id ?? ""));
    expect(await order.askTurn(later, conversation)).toEqual({ kind: "go" });
  });
});

describe("pace and dropStale in the config", () => {
  const yaml = (extra: string) => `
sources:
  sb: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  slack: { type: slack, token: t, channel: "#support"${extra} }
`;
  it("paces a Slack target at 1s unless it says otherwise, and delivers late events unless dropStale", () => {
    const plain = parseConfig(yaml(""), "relay.yaml", {}).targets.slack;
    expect(plain).toMatchObject({ pace: 1000 });
    expect(plain?.dropStale).toBeUndefined();
    const set = parseConfig(yaml(", pace: 250ms, dropStale: true"), "relay.yaml", {}).targets.slack;
    expect(set).toMatchObject({ pace: 250, dropStale: true });
    expect(parseConfig(yaml(", pace: 0"), "relay.yaml", {}).targets.slack).toMatchObject({ pace: 0 });
  });

  it("refuses a pace that is not a duration", () => {
    expect(() => parseConfig(yaml(", pace: fast"), "relay.yaml", {})).toThrow(/pace/);
  });
});
