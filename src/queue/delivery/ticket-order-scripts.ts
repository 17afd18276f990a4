import { RedisScript } from "../redis-script.js";

/** A conversation's pending deliveries are forgotten a day after the last one was added. */
export const pendingTtlMs = 24 * 3600_000;
/** The newest platform time delivered is kept a month, as long as a Slack thread by default. */
export const stateTtlMs = 30 * 24 * 3600_000;

/**
 * Deliveries' places in their conversations' order, in one script for all the deliveries that
 * asked in the same tick of the event loop (queue/same-tick-batch.ts). It runs in two modes:
 * - "take", for a delivery a worker picked up: may it go now?
 * - "place", for deliveries the routing worker is about to add: which of them are behind an
 *   earlier one, so that they are added parked (delayed) instead of waiting in the queue, where
 *   every worker would pick each one up only to put it back. Placing forgets no earlier
 *   delivery whose job is missing: it may be one placed a moment ago and not added yet.
 * KEYS: per delivery, its pending (sorted set) and state (hash: newest, failing:<id>, held:<id>).
 * ARGV: mode, job key prefix, now, failing bound; then per delivery: id, arrival score, platform ms or "".
 * Returns kind, detail and rank per delivery, one after the other.
 */
export const turnsScript = new RedisScript(`
local mode, prefix, now, bound = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
-- Wait while an earlier delivery of its conversation to its target is not finished (a job
-- that no longer exists, or has finishedOn, is forgotten on the way; one failing for longer
-- than the bound is passed). Then: late when its platform time is older than the newest
-- already delivered, else go. A waiting one is marked held, for the finish that wakes it.
local function turn(pending, state, id, score, platform)
  redis.call("ZADD", pending, "NX", score, id)
  redis.call("PEXPIRE", pending, ${pendingTtlMs})
  local rank = redis.call("ZRANK", pending, id)
  if rank > 0 then
    local earlier = redis.call("ZRANGE", pending, 0, math.min(rank, 100) - 1)
    for _, other in ipairs(earlier) do
      local job = prefix .. other
      if mode == "take" and (redis.call("EXISTS", job) == 0 or redis.call("HEXISTS", job, "finishedOn") == 1) then
        redis.call("ZREM", pending, other)
        redis.call("HDEL", state, "failing:" .. other, "held:" .. other)
      else
        local since = tonumber(redis.call("HGET", state, "failing:" .. other))
        if not since or now - since < bound then
          redis.call("HSET", state, "held:" .. id, 1)
          redis.call("PEXPIRE", state, ${stateTtlMs})
          return "wait", other, rank
        end
      end
    end
    if rank > 100 then
      redis.call("HSET", state, "held:" .. id, 1)
      return "wait", earlier[100], rank
    end
  end
  redis.call("HDEL", state, "held:" .. id)
  local newest = redis.call("HGET", state, "newest")
  if platform ~= "" and newest and tonumber(platform) < tonumber(newest) then return "late", newest, 0 end
  return "go", "", 0
end
local turns = {}
for i = 0, #KEYS / 2 - 1 do
  local kind, detail, rank = turn(KEYS[2 * i + 1], KEYS[2 * i + 2], ARGV[3 * i + 5], ARGV[3 * i + 6], ARGV[3 * i + 7])
  turns[3 * i + 1] = kind
  turns[3 * i + 2] = detail
  turns[3 * i + 3] = rank
end
return turns`);

/**
 * Deliveries are finished (delivered, dropped or a dead letter), each as one call of `finish`,
 * in one script for those finishing in the same tick of the event loop. A delivered one's sent
 * mark (queue/delivery/sent-marks.ts) is written with it, so that the two cost one call. A finished
 * delivery holds nobody any more, its platform time becomes the newest if it is ("" when not
 * delivered or unknown), and the next held delivery is named, to be woken now instead of at its
 * next look ("" when there is none): the first held one, past earlier ones that are failing
 * (they may be passed), but not past one that is being sent or queued to go.
 * KEYS: per delivery, pending, state and its sent mark's key (queue/delivery/sent-marks.ts).
 * ARGV: per delivery, id, platform ms or "", the sent mark's text ("" to write none) and lifetime (ms).
 */
export const finishScript = new RedisScript(`
local function finish(pending, state, sent, id, platform, detail, ttl)
  if detail ~= "" then redis.call("SET", sent, detail, "PX", ttl) end
  redis.call("ZREM", pending, id)
  redis.call("HDEL", state, "failing:" .. id, "held:" .. id)
  if platform ~= "" then
    local newest = tonumber(redis.call("HGET", state, "newest"))
    if not newest or tonumber(platform) > newest then
      redis.call("HSET", state, "newest", platform)
      redis.call("PEXPIRE", state, ${stateTtlMs})
    end
  end
  for _, next in ipairs(redis.call("ZRANGE", pending, 0, 9)) do
    if redis.call("HEXISTS", state, "held:" .. next) == 1 then return next end
    if redis.call("HEXISTS", state, "failing:" .. next) == 0 then return "" end
  end
  return ""
end
local woken = {}
for i = 0, #KEYS / 3 - 1 do
  woken[i + 1] = finish(KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3], ARGV[4 * i + 1], ARGV[4 * i + 2], ARGV[4 * i + 3], ARGV[4 * i + 4])
end
return woken`);
