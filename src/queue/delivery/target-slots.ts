import { defaultTargetConcurrency, type TargetConfig } from "../../config/schema.js";
import type { RedisClient } from "../../redis/connections.js";
import type { RelayKeys } from "../queues.js";
import { RedisScript } from "../redis-script.js";
import { SameTickBatch } from "../same-tick-batch.js";

/** What a target's slots are: how many, and how long one is held without renewal. */
export interface SlotSettings {
  limit: number;
  /**
   * A worker killed mid-send frees its slots after this: the workers' `lockDuration`, after
   * which its jobs move on too. A live worker renews the slots it holds (DeliverySlots).
   */
  leaseMs: number;
}
/** A target's slots: its `concurrency`, each leased for the workers' lockDuration. */
export function slotSettingsOf(target: TargetConfig | undefined, lockDurationMs: number): SlotSettings {
  return { limit: target?.concurrency ?? defaultTargetConcurrency, leaseMs: lockDurationMs };
}

/** The line of parked deliveries is forgotten a day after the last one joined it. */
const lineTtlMs = 24 * 3600_000;

/**
 * Deliveries ask for one of their target's slots, in one call for those asking in the same
 * tick of the event loop: granted (1) when fewer than `limit` are held, else 0. A delivery that
 * asks again while it holds one keeps it.
 * KEYS: per delivery, the holders (sorted set, id → lease end) and the line of parked ones.
 * ARGV: per delivery, id, limit and lease (ms).
 */
const takeSlots = new RedisScript(`
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local function take(holders, line, id, limit, lease)
  redis.call("ZREMRANGEBYSCORE", holders, "-inf", now)
  if redis.call("ZSCORE", holders, id) or redis.call("ZCARD", holders) < limit then
    redis.call("ZADD", holders, now + lease, id)
    redis.call("PEXPIRE", holders, lease)
    redis.call("ZREM", line, id)
    return 1
  end
  return 0
end
local granted = {}
for i = 0, #KEYS / 2 - 1 do
  granted[i + 1] = take(KEYS[2 * i + 1], KEYS[2 * i + 2], ARGV[3 * i + 1], tonumber(ARGV[3 * i + 2]), tonumber(ARGV[3 * i + 3]))
end
return granted`);

/**
 * Deliveries give their slots back, in one call for those ending together. For each, the
 * first parked delivery in line is taken off the line, to be woken for the slot now free, when
 * it joined before `before` (ms: the asking process's oldest delivery waiting there, less some
 * patience, or any time when none waits there); otherwise the slot goes straight to `handTo`, a
 * delivery waiting in the asking process ("" for none), leased for `lease` ms. Answers the parked
 * delivery to wake, or "".
 * KEYS: per delivery, the holders and the line. ARGV: per delivery, id, before, handTo, lease.
 */
const releaseSlots = new RedisScript(`
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local woken = {}
for i = 0, #KEYS / 2 - 1 do
  local holders, line = KEYS[2 * i + 1], KEYS[2 * i + 2]
  local id, before, handTo, lease = ARGV[4 * i + 1], tonumber(ARGV[4 * i + 2]), ARGV[4 * i + 3], tonumber(ARGV[4 * i + 4])
  redis.call("ZREM", holders, id)
  woken[i + 1] = ""
  local first = redis.call("ZRANGE", line, 0, 0, "WITHSCORES")
  if first[1] and tonumber(first[2]) < before then
    redis.call("ZREM", line, first[1])
    woken[i + 1] = first[1]
  elseif handTo ~= "" then
    redis.call("ZADD", holders, now + lease, handTo)
    redis.call("PEXPIRE", holders, lease)
  end
end
return woken`);

/**
 * Slots a live worker holds get a new lease, on Redis's clock: only those still held (XX), so
 * a slot already given up for lost is not taken back. KEYS: per slot, its holders.
 * ARGV: the lease (ms), then per slot, its id.
 */
const renewSlots = new RedisScript(`
local time = redis.call("TIME")
local expires = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + tonumber(ARGV[1])
for i = 1, #KEYS do
  redis.call("ZADD", KEYS[i], "XX", "GT", expires, ARGV[i + 1])
  redis.call("PEXPIRE", KEYS[i], tonumber(ARGV[1]))
end
return #KEYS`);

/** The holders whose lease has not run out, on Redis's clock as the leases are. KEYS: the holders. */
const countHolders = new RedisScript(`
local time = redis.call("TIME")
redis.call("ZREMRANGEBYSCORE", KEYS[1], "-inf", tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000))
return redis.call("ZCARD", KEYS[1])`);

/**
 * A delivery joins its target's line of parked ones, by when its job was made, so that the
 * line keeps its order when a woken one has to park again; answers its place in line.
 * KEYS: the line. ARGV: id, the job's creation time.
 */
const joinLine = new RedisScript(`
redis.call("ZADD", KEYS[1], "NX", ARGV[2], ARGV[1])
redis.call("PEXPIRE", KEYS[1], ${lineTtlMs})
return redis.call("ZRANK", KEYS[1], ARGV[1])`);

/**
 * How many deliveries to one target are being sent at once, across every worker process: at
 * most the target's `concurrency`. A slow or failing receiver then holds only its own share
 * of the workers, and the other targets' deliveries go on at their own speed. The holders and
 * the line of deliveries parked for a slot live in Redis, shared by all workers; waking and
 * waiting are queue/delivery/delivery-slots.ts.
 */
export class TargetSlots {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  /** True: the delivery holds a slot now. */
  claim(targetId: string, deliveryId: string, settings: SlotSettings): Promise<boolean> {
    return this.#takes.call({ targetId, deliveryId, value: settings.limit, more: [settings.leaseMs] });
  }

  /**
   * Gives the slot back. Resolves with the parked delivery to wake for it, taken off the line:
   * the first in line, if it joined before `before` (ms). Otherwise "", and the slot is now
   * `handTo`'s when one is given.
   */
  release(
    targetId: string,
    deliveryId: string,
    before: number,
    handTo?: { deliveryId: string; settings: SlotSettings },
  ): Promise<string> {
    return this.#releases.call({
      targetId,
      deliveryId,
      value: before,
      more: [handTo?.deliveryId ?? "", handTo?.settings.leaseMs ?? 0],
    });
  }

  /** Gives back a slot this delivery may hold; true when it held one. */
  async giveBack(targetId: string, deliveryId: string): Promise<boolean> {
    const [holders] = this.#keysOf(targetId);
    return (await this.redis.zrem(holders ?? "", deliveryId)) === 1;
  }

  /** Takes the first parked delivery off the target's line, to be woken instead of one that could not be. */
  async nextInLine(targetId: string): Promise<string | undefined> {
    const [, line] = this.#keysOf(targetId);
    const [id] = await this.redis.zpopmin(line ?? "");
    return id;
  }

  /** Parks the delivery in its target's line; resolves with its place (0 first). */
  async joinLine(targetId: string, deliveryId: string, createdAt: number): Promise<number> {
    const [, line] = this.#keysOf(targetId);
    return Number(await joinLine.run(this.redis, [line ?? ""], [deliveryId, createdAt]));
  }

  /** How many of the target's slots are free now. */
  async freeSlots(targetId: string, settings: SlotSettings): Promise<number> {
    const [holders] = this.#keysOf(targetId);
    return settings.limit - Number(await countHolders.run(this.redis, [holders ?? ""], []));
  }

  /** Renews the leases of slots this process holds, in one call; a slot whose lease ran out stays lost. */
  async renew(slots: { targetId: string; id: string }[], leaseMs: number): Promise<void> {
    if (slots.length === 0) return;
    const keys = slots.map(({ targetId }) => this.#keysOf(targetId)[0] ?? "");
    await renewSlots.run(this.redis, keys, [leaseMs, ...slots.map(({ id }) => id)]);
  }

  /** How many deliveries are parked in the target's line. */
  async lineLength(targetId: string): Promise<number> {
    const [, line] = this.#keysOf(targetId);
    return this.redis.zcard(line ?? "");
  }

  #keysOf(targetId: string): string[] {
    const key = this.keys.targetSlots(targetId);
    return [key, `${key}:line`];
  }

  #run(script: RedisScript, asks: SlotAsk[]): Promise<unknown[]> {
    const keys = asks.flatMap(({ targetId }) => this.#keysOf(targetId));
    const args = asks.flatMap(({ deliveryId, value, more }) => [
      deliveryId,
      Number.isFinite(value) ? value : Number.MAX_SAFE_INTEGER,
      ...more,
    ]);
    return script.run(this.redis, keys, args) as Promise<unknown[]>;
  }

  readonly #takes = new SameTickBatch<SlotAsk, boolean>(async (asks) =>
    (await this.#run(takeSlots, asks)).map((granted) => granted === 1),
  );

  readonly #releases = new SameTickBatch<SlotAsk, string>(
    async (asks) => (await this.#run(releaseSlots, asks)) as string[],
  );
}

interface SlotAsk {
  targetId: string;
  deliveryId: string;
  /** The limit for a claim, `before` for a release. */
  value: number;
  /** A claim's lease; a release's handTo and its lease. */
  more: (string | number)[];
}
