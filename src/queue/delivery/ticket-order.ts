import type { Job, Queue } from "bullmq";
import { type Conversation, conversationOf, type RelayEvent } from "../../events.js";
import { execAll, type RedisClient } from "../../redis/connections.js";
import type { DeliveryJob } from "../jobs.js";
import type { RelayKeys } from "../queues.js";
import { RedisScript } from "../redis-script.js";
import { SameTurnBatch } from "../same-turn-batch.js";
import { rememberSentForMs } from "./sent-marks.js";

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
 * Deliveries' turns, each as one call of `take` below, in one script for all the deliveries
 * that asked in the same turn of the event loop (queue/same-turn-batch.ts).
 * KEYS: per delivery, its pending (sorted set) and state (hash: newest, failing:<id>, held:<id>).
 * ARGV: job key prefix, now, failing bound; then per delivery: id, arrival score, platform ms or "".
 * Returns kind and detail per delivery, one after the other.
 */
const takeTurns = new RedisScript(`
local prefix, now, bound = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
-- Wait while an earlier delivery of its conversation to its target is not finished (a job
-- that no longer exists, or has finishedOn, is forgotten on the way; one failing for longer
-- than the bound is passed). Then: late when its platform time is older than the newest
-- already delivered, else go.
local function take(pending, state, id, score, platform)
  redis.call("ZADD", pending, "NX", score, id)
  redis.call("PEXPIRE", pending, ${pendingTtlMs})
  local rank = redis.call("ZRANK", pending, id)
  if rank > 0 then
    local earlier = redis.call("ZRANGE", pending, 0, math.min(rank, 100) - 1)
    for _, other in ipairs(earlier) do
      local job = prefix .. other
      if redis.call("EXISTS", job) == 0 or redis.call("HEXISTS", job, "finishedOn") == 1 then
        redis.call("ZREM", pending, other)
        redis.call("HDEL", state, "failing:" .. other, "held:" .. other)
      else
        local since = tonumber(redis.call("HGET", state, "failing:" .. other))
        if not since or now - since < bound then
          redis.call("HSET", state, "held:" .. id, 1)
          redis.call("PEXPIRE", state, ${stateTtlMs})
          return "wait", other
        end
      end
    end
    if rank > 100 then
      redis.call("HSET", state, "held:" .. id, 1)
      return "wait", earlier[100]
    end
  end
  redis.call("HDEL", state, "held:" .. id)
  local newest = redis.call("HGET", state, "newest")
  if platform ~= "" and newest and tonumber(platform) < tonumber(newest) then return "late", newest end
  return "go", ""
end
local turns = {}
for i = 0, #KEYS / 2 - 1 do
  local kind, detail = take(KEYS[2 * i + 1], KEYS[2 * i + 2], ARGV[3 * i + 4], ARGV[3 * i + 5], ARGV[3 * i + 6])
  turns[2 * i + 1] = kind
  turns[2 * i + 2] = detail
end
return turns`);

/**
 * Deliveries are finished (delivered, dropped or a dead letter), each as one call of `finish`,
 * in one script for those finishing in the same turn of the event loop. A delivered one's sent
 * mark (queue/delivery/sent-marks.ts) is written with it, so that the two cost one call. A finished
 * delivery holds nobody any more, its platform time becomes the newest if it is ("" when not
 * delivered or unknown), and the next delivery is named if it is held, to be woken now instead
 * of at its next look ("" when there is none).
 * KEYS: per delivery, pending, state and its sent mark.
 * ARGV: the sent marks' lifetime in ms; per delivery, id, platform ms or "", and the sent mark's
 * text ("" to write none).
 */
const finishTurns = new RedisScript(`
local function finish(pending, state, sent, id, platform, detail)
  if detail ~= "" then redis.call("SET", sent, detail, "PX", ARGV[1]) end
  redis.call("ZREM", pending, id)
  redis.call("HDEL", state, "failing:" .. id, "held:" .. id)
  if platform ~= "" then
    local newest = tonumber(redis.call("HGET", state, "newest"))
    if not newest or tonumber(platform) > newest then
      redis.call("HSET", state, "newest", platform)
      redis.call("PEXPIRE", state, ${stateTtlMs})
    end
  end
  local next = redis.call("ZRANGE", pending, 0, 0)[1]
  if next and redis.call("HEXISTS", state, "held:" .. next) == 1 then return next end
  return ""
end
local woken = {}
for i = 0, #KEYS / 3 - 1 do
  woken[i + 1] = finish(KEYS[3 * i + 1], KEYS[3 * i + 2], KEYS[3 * i + 3], ARGV[3 * i + 2], ARGV[3 * i + 3], ARGV[3 * i + 4])
end
return woken`);

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

  /**
   * Notes new deliveries, in the routing worker, right after they were added. The notes of
   * webhooks routed in the same turn of the event loop go to Redis in one pipeline.
   */
  async noteAdded(jobs: { data: DeliveryJob; opts: { jobId?: string } }[]): Promise<void> {
    const notes = jobs.flatMap(({ data, opts }) => {
      const conversation = conversationOf(data.event)?.key;
      if (!conversation || !opts.jobId) return [];
      return [
        { key: this.keys.ticketOrder(data.targetId, conversation), score: arrivalScore(data.event), id: opts.jobId },
      ];
    });
    if (notes.length > 0) await this.#notes.call(notes);
  }

  readonly #notes = new SameTurnBatch<{ key: string; score: number; id: string }[], void>(async (batches) => {
    const pipeline = this.redis.pipeline();
    for (const { key, score, id } of batches.flat()) pipeline.zadd(key, "NX", score, id).pexpire(key, pendingTtlMs);
    await execAll(pipeline);
    return batches.map(() => undefined);
  });

  async take(job: Job<DeliveryJob>, conversation: Conversation): Promise<Turn> {
    const { event, targetId } = job.data;
    const key = this.keys.ticketOrder(targetId, conversation.key);
    return this.#takes.call({ key, id: job.id ?? "", score: arrivalScore(event), platform: platformMs(event) ?? "" });
  }

  readonly #takes = new SameTurnBatch<{ key: string; id: string; score: number; platform: number | "" }, Turn>(
    async (takes) => {
      const keys = takes.flatMap(({ key }) => [key, `${key}:state`]);
      const args = takes.flatMap(({ id, score, platform }) => [id, score, platform]);
      const answers = (await takeTurns.run(this.redis, keys, [
        this.keys.deliveryJob(""),
        Date.now(),
        this.failingBoundMs,
        ...args,
      ])) as string[];
      return takes.map((_, index) => turnOf(answers[2 * index] ?? "", answers[2 * index + 1] ?? ""));
    },
  );

  /** A try failed and will be retried: from now on the bound of the deliveries behind it runs. */
  async failing(job: Job<DeliveryJob>, conversation: Conversation): Promise<void> {
    const key = `${this.keys.ticketOrder(job.data.targetId, conversation.key)}:state`;
    await this.redis.multi().hsetnx(key, `failing:${job.id}`, Date.now()).pexpire(key, stateTtlMs).exec();
  }

  /**
   * The delivery is finished; `delivered` when the target took it (its time may be the newest),
   * with what the target said, written as its sent mark in the same call.
   */
  async finish(
    job: Job<DeliveryJob>,
    conversation: Conversation,
    delivered: { detail: string } | false,
  ): Promise<void> {
    const key = this.keys.ticketOrder(job.data.targetId, conversation.key);
    const id = job.id ?? "";
    const platform = delivered ? platformMs(job.data.event) : undefined;
    const next = await this.#finishes.call({
      key,
      sentKey: this.keys.sent(id),
      id,
      platform: platform ?? "",
      sentDetail: delivered ? delivered.detail : "",
    });
    if (!next || !this.deliveries) return;
    try {
      await (await this.deliveries.getJob(next))?.promote();
    } catch {
      // Not delayed (any more): it is running, or already back in the queue. Its next look finds its turn.
    }
  }

  readonly #finishes = new SameTurnBatch<
    { key: string; sentKey: string; id: string; platform: number | ""; sentDetail: string },
    string
  >(async (finishes) => {
    const keys = finishes.flatMap(({ key, sentKey }) => [key, `${key}:state`, sentKey]);
    const args = finishes.flatMap(({ id, platform, sentDetail }) => [id, platform, sentDetail]);
    return (await finishTurns.run(this.redis, keys, [rememberSentForMs, ...args])) as string[];
  });
}

function turnOf(kind: string, detail: string): Turn {
  if (kind === "wait") return { kind, earlier: detail };
  if (kind === "late") return { kind, newerAt: Number(detail) };
  return { kind: "go" };
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
