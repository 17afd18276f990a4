import type { Job, Queue } from "bullmq";
import { type Conversation, conversationOf, type RelayEvent } from "../events.js";
import type { RedisClient } from "../redis/connections.js";
import type { DeliveryJob } from "./jobs.js";
import type { RelayKeys } from "./queues.js";
import { RedisScript } from "./redis-script.js";

/**
 * How long the deliveries after an earlier one of their conversation wait for it while it
 * fails: after a minute of retries they go ahead, and it arrives late when it gets through.
 * An earlier delivery that is being sent or waits for its pace holds the later ones as long as
 * it takes; one that became a dead letter, was removed or finished holds nobody.
 */
export const orderWaitForFailingMs = 60_000;
/** A conversation's pending deliveries are forgotten a day after the last one was added. */
const pendingTtlMs = 24 * 3600_000;
/** The newest platform time delivered is kept a month, as long as a Slack thread by default. */
const stateTtlMs = 30 * 24 * 3600_000;

/**
 * A delivery's turn: wait while an earlier delivery of its conversation to its target is not
 * finished (a job that no longer exists, or has `finishedOn`, is forgotten on the way; one
 * failing for longer than the bound is passed). Then: late when its platform time is older
 * than the newest already delivered, else go.
 * KEYS: pending (sorted set), state (hash: newest, failing:<id>, held:<id>).
 * ARGV: delivery id, arrival score, job key prefix, now, failing bound, platform ms or "".
 */
const takeTurn = new RedisScript(`
local id, now, bound = ARGV[1], tonumber(ARGV[4]), tonumber(ARGV[5])
redis.call("ZADD", KEYS[1], "NX", ARGV[2], id)
redis.call("PEXPIRE", KEYS[1], ${pendingTtlMs})
local rank = redis.call("ZRANK", KEYS[1], id)
if rank > 0 then
  local earlier = redis.call("ZRANGE", KEYS[1], 0, math.min(rank, 100) - 1)
  for _, other in ipairs(earlier) do
    local job = ARGV[3] .. other
    if redis.call("EXISTS", job) == 0 or redis.call("HEXISTS", job, "finishedOn") == 1 then
      redis.call("ZREM", KEYS[1], other)
      redis.call("HDEL", KEYS[2], "failing:" .. other, "held:" .. other)
    else
      local since = tonumber(redis.call("HGET", KEYS[2], "failing:" .. other))
      if not since or now - since < bound then
        redis.call("HSET", KEYS[2], "held:" .. id, 1)
        redis.call("PEXPIRE", KEYS[2], ${stateTtlMs})
        return {"wait", other}
      end
    end
  end
  if rank > 100 then
    redis.call("HSET", KEYS[2], "held:" .. id, 1)
    return {"wait", earlier[100]}
  end
end
redis.call("HDEL", KEYS[2], "held:" .. id)
local newest = redis.call("HGET", KEYS[2], "newest")
if ARGV[6] ~= "" and newest and tonumber(ARGV[6]) < tonumber(newest) then return {"late", newest} end
return {"go", ""}`);

/**
 * A delivery is finished (delivered, dropped or a dead letter): it holds nobody any more, its
 * platform time becomes the newest if it is (ARGV[2], "" when not delivered or unknown), and
 * the next delivery is named if it is held, to be woken now instead of at its next look.
 */
const finishTurn = new RedisScript(`
local id = ARGV[1]
redis.call("ZREM", KEYS[1], id)
redis.call("HDEL", KEYS[2], "failing:" .. id, "held:" .. id)
if ARGV[2] ~= "" then
  local newest = tonumber(redis.call("HGET", KEYS[2], "newest"))
  if not newest or tonumber(ARGV[2]) > newest then
    redis.call("HSET", KEYS[2], "newest", ARGV[2])
    redis.call("PEXPIRE", KEYS[2], ${stateTtlMs})
  end
end
local next = redis.call("ZRANGE", KEYS[1], 0, 0)[1]
if next and redis.call("HEXISTS", KEYS[2], "held:" .. next) == 1 then return next end
return false`);

export type Turn =
  | { kind: "go" }
  /** Behind `earlier`, which is not finished yet. */
  | { kind: "wait"; earlier: string }
  /** Its platform time is older than the newest delivered one's (ms since the epoch). */
  | { kind: "late"; newerAt: number };

/**
 * The order of the events of one conversation reaching one target is the order the relay
 * received them in (`arrivalScore`): the routing worker notes each delivery as it adds it,
 * and a delivery takes its turn only when the earlier ones have finished. The state lives in
 * Redis, shared by every worker.
 */
export class TicketOrder {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
    /** The delivery queue, to wake a held delivery when the one before it finishes. */
    private readonly deliveries?: Queue<DeliveryJob>,
    private readonly failingBoundMs = orderWaitForFailingMs,
  ) {}

  /** Notes new deliveries, in the routing worker, right after they were added. */
  async noteAdded(jobs: { data: DeliveryJob; opts: { jobId?: string } }[]): Promise<void> {
    const multi = this.redis.multi();
    let any = false;
    for (const { data, opts } of jobs) {
      const conversation = conversationOf(data.event)?.key;
      if (!conversation || !opts.jobId) continue;
      const key = this.keys.ticketOrder(data.targetId, conversation);
      multi.zadd(key, "NX", arrivalScore(data.event), opts.jobId).pexpire(key, pendingTtlMs);
      any = true;
    }
    if (any) await multi.exec();
  }

  async take(job: Job<DeliveryJob>, conversation: Conversation): Promise<Turn> {
    const { event, targetId } = job.data;
    const key = this.keys.ticketOrder(targetId, conversation.key);
    const [kind, detail] = (await takeTurn.run(
      this.redis,
      [key, `${key}:state`],
      [
        job.id ?? "",
        arrivalScore(event),
        this.keys.deliveryJob(""),
        Date.now(),
        this.failingBoundMs,
        platformMs(event) ?? "",
      ],
    )) as [string, string];
    if (kind === "wait") return { kind, earlier: detail };
    if (kind === "late") return { kind, newerAt: Number(detail) };
    return { kind: "go" };
  }

  /** A try failed and will be retried: from now on the bound of the deliveries behind it runs. */
  async failing(job: Job<DeliveryJob>, conversation: Conversation): Promise<void> {
    const key = `${this.keys.ticketOrder(job.data.targetId, conversation.key)}:state`;
    await this.redis.multi().hsetnx(key, `failing:${job.id}`, Date.now()).pexpire(key, stateTtlMs).exec();
  }

  /** The delivery is finished; `delivered` when the target took it (its time may be the newest). */
  async finish(job: Job<DeliveryJob>, conversation: Conversation, delivered: boolean): Promise<void> {
    const key = this.keys.ticketOrder(job.data.targetId, conversation.key);
    const platform = delivered ? platformMs(job.data.event) : undefined;
    const next = await finishTurn.run(this.redis, [key, `${key}:state`], [job.id ?? "", platform ?? ""]);
    if (typeof next !== "string" || !this.deliveries) return;
    try {
      await (await this.deliveries.getJob(next))?.promote();
    } catch {
      // Not delayed (any more): it is running, or already back in the queue. Its next look finds its turn.
    }
  }
}

/**
 * Where an event stands among its conversation's events: when the relay received it (ms),
 * then its place in its webhook, so that events of one webhook keep the platform's order.
 */
export function arrivalScore(event: Pick<RelayEvent, "id" | "receivedAt">): number {
  const index = Number(event.id.slice(event.id.lastIndexOf(".") + 1));
  const place = Number.isInteger(index) ? Math.min(Math.max(index, 0), 999) : 0;
  return (Date.parse(event.receivedAt) || 0) * 1000 + place;
}

/** The platform's own time of the event, in ms, where the payload gives one. */
export function platformMs(event: Pick<RelayEvent, "occurredAt">): number | undefined {
  const ms = event.occurredAt ? Date.parse(event.occurredAt) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}
