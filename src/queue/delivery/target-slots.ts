import type { RedisClient } from "../../redis/connections.js";
import type { RelayKeys } from "../queues.js";
import { RedisScript } from "../redis-script.js";
import { SameTurnBatch } from "../same-turn-batch.js";

/**
 * A slot is held this long at most: a worker killed mid-send frees its slots after this. A
 * send outlasting it (no target's timeout does by default) lets one more in, which is harmless.
 */
const slotLeaseMs = 60_000;
/** A woken waiter that has not come for its slot after this long lets the next one have it. */
const wokenForMs = 30_000;
/** Waiters (and their wake marks) are forgotten a day after the last one asked. */
const waitingTtlMs = 24 * 3600_000;

/**
 * Lua of both scripts, per delivery: `holders` (sorted set, id → lease end), `waiting` (sorted
 * set, the waiters in the order they first asked) and `woken` (hash, the waiters woken and
 * when). `tidy` lets expired leases go and drops from the line a waiter woken but not come for
 * its slot in time (its job is gone, or so late that it asks again at the back). `wake` marks
 * and names the waiters that fit in the free slots now and are not woken yet.
 */
const helpers = `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function tidy(holders, waiting, woken, limit)
  redis.call("ZREMRANGEBYSCORE", holders, "-inf", now)
  for _, waiter in ipairs(redis.call("ZRANGE", waiting, 0, limit - 1)) do
    local at = tonumber(redis.call("HGET", woken, waiter))
    if at and now - at > ${wokenForMs} then
      redis.call("ZREM", waiting, waiter)
      redis.call("HDEL", woken, waiter)
    end
  end
end
local function wake(holders, waiting, woken, limit)
  local free = limit - redis.call("ZCARD", holders)
  local names = {}
  if free <= 0 then return names end
  for _, waiter in ipairs(redis.call("ZRANGE", waiting, 0, free - 1)) do
    if redis.call("HSETNX", woken, waiter, now) == 1 then names[#names + 1] = waiter end
  end
  redis.call("PEXPIRE", woken, ${waitingTtlMs})
  return names
end
`;

/**
 * Deliveries ask for one of their target's slots, in one call for those asking in the same
 * turn of the event loop. One gets a slot when fewer than `limit` are held and no more than the
 * free slots' worth of waiters are before it (waiters go first, in the order they asked);
 * otherwise it joins the line. Answers {1} for a slot, or {0, its place in line, the waiters to
 * wake} (a lease ran out, or a woken one did not come).
 * KEYS: per delivery, holders, waiting, woken. ARGV: per delivery, id and limit.
 */
const takeSlots = new RedisScript(`${helpers}
local function take(holders, waiting, woken, id, limit)
  tidy(holders, waiting, woken, limit)
  if redis.call("ZSCORE", holders, id) then
    redis.call("ZADD", holders, now + ${slotLeaseMs}, id)
    return {1}
  end
  local free = limit - redis.call("ZCARD", holders)
  if free > 0 then
    local place = redis.call("ZRANK", waiting, id) or redis.call("ZCARD", waiting)
    if place < free then
      redis.call("ZADD", holders, now + ${slotLeaseMs}, id)
      redis.call("PEXPIRE", holders, ${slotLeaseMs})
      redis.call("ZREM", waiting, id)
      redis.call("HDEL", woken, id)
      return {1}
    end
  end
  redis.call("ZADD", waiting, "NX", now, id)
  redis.call("PEXPIRE", waiting, ${waitingTtlMs})
  return {0, redis.call("ZRANK", waiting, id), wake(holders, waiting, woken, limit)}
end
local answers = {}
for i = 0, #KEYS / 3 - 1 do
  answers[i + 1] = take(KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3], ARGV[2 * i + 1], tonumber(ARGV[2 * i + 2]))
end
return answers`);

/**
 * Deliveries give their slots back, in one call for those ending together; each answer names
 * the waiters to wake for the slots now free. KEYS and ARGV as for takeSlots.
 */
const releaseSlots = new RedisScript(`${helpers}
local answers = {}
for i = 0, #KEYS / 3 - 1 do
  local holders, waiting, woken, limit = KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3], tonumber(ARGV[2 * i + 2])
  redis.call("ZREM", holders, ARGV[2 * i + 1])
  tidy(holders, waiting, woken, limit)
  answers[i + 1] = wake(holders, waiting, woken, limit)
end
return answers`);

export type SlotAnswer = { kind: "go" } | { kind: "wait"; place: number; wake: string[] };

/**
 * How many deliveries to one target are being sent at once, across every worker process: at
 * most the target's `concurrency`. A slow or failing receiver then holds only its own share
 * of the workers, and the other targets' deliveries go on at their own speed. A delivery that
 * finds its target's slots taken waits in line, parked in BullMQ's delayed set, and is woken
 * when a slot frees (queue/delivery/delivery-slots.ts); the line lives in Redis, shared by all.
 */
export class TargetSlots {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  take(targetId: string, deliveryId: string, limit: number): Promise<SlotAnswer> {
    return this.#takes.call({ targetId, deliveryId, limit });
  }

  /** Gives the slot back; resolves with the waiters to wake. */
  release(targetId: string, deliveryId: string, limit: number): Promise<string[]> {
    return this.#releases.call({ targetId, deliveryId, limit });
  }

  #keysOf(targetId: string): string[] {
    const key = this.keys.targetSlots(targetId);
    return [key, `${key}:waiting`, `${key}:woken`];
  }

  #run(script: RedisScript, asks: { targetId: string; deliveryId: string; limit: number }[]) {
    const keys = asks.flatMap(({ targetId }) => this.#keysOf(targetId));
    const args = asks.flatMap(({ deliveryId, limit }) => [deliveryId, limit]);
    return script.run(this.redis, keys, args) as Promise<unknown[]>;
  }

  readonly #takes = new SameTurnBatch<{ targetId: string; deliveryId: string; limit: number }, SlotAnswer>(
    async (asks) =>
      (await this.#run(takeSlots, asks)).map((answer) => {
        const [granted, place, wake] = answer as [number, number?, string[]?];
        return granted === 1 ? { kind: "go" } : { kind: "wait", place: Number(place), wake: wake ?? [] };
      }),
  );

  readonly #releases = new SameTurnBatch<{ targetId: string; deliveryId: string; limit: number }, string[]>(
    async (asks) => (await this.#run(releaseSlots, asks)) as string[][],
  );
}
