import { describe, expect, it } from "vitest";
import { slotSettingsOf, TargetSlots } from "../src/queue/delivery/target-slots.js";
import { relayKeys } from "../src/queue/queues.js";
import { uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const redis = useRedis();

describe("a target's slots", () => {
  const two = { limit: 2, leaseMs: 60_000 };

  it("grants at most the limit at once, keeps a holder's slot when it asks again, and frees it on release", async () => {
    const slots = new TargetSlots(redis.client, relayKeys(uniquePrefix()));
    expect(await Promise.all(["a", "b", "c"].map((id) => slots.claim("crm", id, two)))).toEqual([true, true, false]);
    expect(await slots.claim("crm", "a", two)).toBe(true);
    expect(await slots.claim("other", "c", two)).toBe(true);
    await slots.release("crm", "a", Number.POSITIVE_INFINITY);
    expect(await slots.claim("crm", "c", two)).toBe(true);
  });

  it("wakes the first parked delivery on release, unless one waiting in the process is not much younger", async () => {
    const slots = new TargetSlots(redis.client, relayKeys(uniquePrefix()));
    await slots.claim("crm", "a", two);
    await slots.claim("crm", "b", two);
    expect(await slots.joinLine("crm", "late", 2000)).toBe(0);
    expect(await slots.joinLine("crm", "early", 1000)).toBe(0);
    // One waiting here since 5000: the parked one from 1000 has waited 4 s longer, under the patience asked.
    expect(await slots.release("crm", "a", 5000 - 10_000)).toBe("");
    expect(await slots.release("crm", "b", Number.POSITIVE_INFINITY)).toBe("early");
    expect(await slots.lineLength("crm")).toBe(1);
    expect(await slots.nextInLine("crm")).toBe("late");
  });

  it("hands a slot given back straight to a delivery waiting in the process, in the same call", async () => {
    const slots = new TargetSlots(redis.client, relayKeys(uniquePrefix()));
    const one = { limit: 1, leaseMs: 60_000 };
    await slots.claim("crm", "sending", one);
    expect(await slots.claim("crm", "waiting", one)).toBe(false);
    expect(await slots.release("crm", "sending", 0, { deliveryId: "waiting", settings: one })).toBe("");
    // It holds the slot now: nobody else gets one, and it gives it back like any holder.
    expect(await slots.claim("crm", "newcomer", one)).toBe(false);
    expect(await slots.giveBack("crm", "waiting")).toBe(true);
    expect(await slots.freeSlots("crm", one)).toBe(1);
  });

  it("frees the slot of a holder whose lease ran out, as a killed worker's", async () => {
    const slots = new TargetSlots(redis.client, relayKeys(uniquePrefix()));
    const short = { limit: 1, leaseMs: 100 };
    expect(await slots.claim("crm", "killed", short)).toBe(true);
    expect(await slots.claim("crm", "next", short)).toBe(false);
    // Nobody gives it back: the slot frees once the killed holder's lease has run out.
    await waitFor(() => slots.claim("crm", "next", short), { what: "the killed holder's slot", timeoutMs: 2000 });
  });

  it("leases a slot for the workers' lockDuration, with 10 at once unless the target says", () => {
    expect(slotSettingsOf(undefined, 10_000)).toEqual({ limit: 10, leaseMs: 10_000 });
    const http = { type: "http", timeout: 45_000, concurrency: 3 } as Parameters<typeof slotSettingsOf>[0];
    expect(slotSettingsOf(http, 2000)).toEqual({ limit: 3, leaseMs: 2000 });
  });

  it("renews the lease of a slot still held, and not of one already lost", async () => {
    const slots = new TargetSlots(redis.client, relayKeys(uniquePrefix()));
    const short = { limit: 2, leaseMs: 150 };
    await slots.claim("crm", "kept", short);
    await slots.claim("crm", "lost", short);
    await slots.giveBack("crm", "lost");
    await new Promise((resolve) => setTimeout(resolve, 100));
    await slots.renew(
      [
        { targetId: "crm", id: "kept" },
        { targetId: "crm", id: "lost" },
      ],
      150,
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    // 200 ms after its claim, past its first lease: still held, and the lost one stays gone.
    expect(await slots.freeSlots("crm", short)).toBe(1);
  });
});
