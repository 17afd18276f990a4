import type { RedisClient } from "../../redis/connections.js";
import type { Pace } from "../../targets/target.js";
import type { RelayKeys } from "../queues.js";
import { RedisScript } from "../redis-script.js";

/**
 * Lua helpers of both scripts. KEYS[1] is a hash: `free`, the next moment not given yet, and
 * `last`, when the last delivery went; KEYS[2] the deliveries waiting, by their moment.
 * `spread` moves the waiting ones, in their order, to at least `every` apart from `after` on,
 * and the next free moment behind the last of them.
 */
const prelude = `
local time = redis.call("TIME")
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local every = tonumber(ARGV[2])
local function spread(after)
  local waiting = redis.call("ZRANGE", KEYS[2], 0, -1, "WITHSCORES")
  for i = 1, #waiting, 2 do
    local at = math.max(tonumber(waiting[i + 1]), after)
    if at ~= tonumber(waiting[i + 1]) then redis.call("ZADD", KEYS[2], at, waiting[i]) end
    after = at + every
  end
  local free = math.max(tonumber(redis.call("HGET", KEYS[1], "free") or "0"), after)
  redis.call("HSET", KEYS[1], "free", free)
  redis.call("PEXPIRE", KEYS[1], free - now + 60000)
  redis.call("PEXPIRE", KEYS[2], free - now + 3600000)
end
`;

/**
 * A delivery asks for its moment. One that was given a moment before and is back for it goes
 * (0) once the moment has come and the last delivery went at least `every` ago (a delivery
 * picked up late must not make the next one too soon: then it and those after it move on),
 * or learns how long is left. Otherwise it is given the next free moment: 0 when that is now,
 * else the wait. Holds of deliveries that never came back are forgotten after an hour.
 */
const takeMoment = new RedisScript(`${prelude}
redis.call("ZREMRANGEBYSCORE", KEYS[2], "-inf", now - 3600000)
local last = tonumber(redis.call("HGET", KEYS[1], "last") or "-1e15")
local held = redis.call("ZSCORE", KEYS[2], ARGV[1])
if held then
  held = tonumber(held)
  if held > now + 20 then return held - now end
  if last + every > now + 20 then
    redis.call("ZADD", KEYS[2], last + every, ARGV[1])
    spread(last + every)
    return last + every - now
  end
  redis.call("ZREM", KEYS[2], ARGV[1])
else
  local free = tonumber(redis.call("HGET", KEYS[1], "free") or "0")
  local moment = math.max(now, free, last + every)
  redis.call("HSET", KEYS[1], "free", moment + every)
  redis.call("PEXPIRE", KEYS[1], moment + every - now + 60000)
  if moment > now then
    redis.call("ZADD", KEYS[2], moment, ARGV[1])
    redis.call("PEXPIRE", KEYS[2], moment - now + 3600000)
    return moment - now
  end
end
redis.call("HSET", KEYS[1], "last", now)
return 0`);

/**
 * The far side said "too many" and to come back in ARGV[3] ms: the delivery it refused gets
 * that moment, and every delivery still waiting for its own moment moves behind it, in the
 * order they were in, `every` apart; the next free moment follows the last of them. So a 429
 * costs its key one wait, not one per delivery queued, and the key's order stays as it was.
 */
const pushBack = new RedisScript(`${prelude}
local moment = now + tonumber(ARGV[3])
-- First in line: it was due before every delivery still waiting.
redis.call("ZADD", KEYS[2], 0, ARGV[1])
spread(moment)
return moment - now`);

/**
 * Paces deliveries per key across every worker: each delivery is given a moment at least
 * `everyMs` after the previous one's, kept in Redis, and a delivery whose moment is later
 * waits in BullMQ's delayed set, holding no worker. Moments are taken on Redis's clock, so
 * workers on machines whose clocks differ still keep the pace.
 */
export class Pacer {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  /** Milliseconds this delivery must wait for its moment; 0 to go now. */
  async askMoment(pace: Pace, deliveryId: string): Promise<number> {
    const key = this.keys.pace(pace.key);
    return Number(await takeMoment.run(this.redis, [key, `${key}:held`], [deliveryId, pace.everyMs]));
  }

  /** After the far side's 429: the wait (at least `afterMs`) before this delivery's next try. */
  async rateLimited(pace: Pace, deliveryId: string, afterMs: number): Promise<number> {
    const key = this.keys.pace(pace.key);
    return Number(await pushBack.run(this.redis, [key, `${key}:held`], [deliveryId, pace.everyMs, afterMs]));
  }
}
