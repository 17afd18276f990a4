import type { HistoryConfig } from "../config/history-schema.js";
import type { Logger } from "../log.js";
import { RedisScript } from "../queue/redis-script.js";
import { SameTickBatch } from "../queue/same-tick-batch.js";
import type { RedisClient } from "../redis/connector.js";
import type { HistoryKeys } from "./history-keys.js";
import {
  type DeliveryStep,
  outcomesOf,
  type RefusedRequest,
  type Step,
  type TakenAction,
  type WebhookRecord,
} from "./records.js";
import { HistoryRetention, indexesOf } from "./retention.js";

/** A delivery's steps past this many are not kept: a record stays small whatever befalls it. */
export const maxStepsPerWebhook = 200;
/** The field of a webhook's body key that holds its whole body (`history.bodies: all`); the others are event ids. */
export const bodyField = "webhook";
const bodyFieldName: typeof bodyField = "webhook";
/** Actions taken by hand kept at most. */
const maxActions = 1000;
/** Steps kept in a record's list: its first element is the webhook. */
const maxElements = maxStepsPerWebhook + 1;

/**
 * Writes one batch of the history: every record, step and line written in one tick of the event
 * loop, in one script call (one EVALSHA, one round trip, no ioredis pipeline: a pipeline on a
 * BullMQ connection copies its sixty-odd scripts, and that cost more than the writes). The
 * batch is JSON; every number in it is a string, since Lua would print a large one in exponent
 * form. Keys other than the two declared all start with the relay's prefix, a hash tag on a
 * Cluster, so they are in the declared keys' slot.
 * A step is added only while its record is kept, and so are its outcome index entries: a step
 * that comes after its record was trimmed or forgotten leaves no entry behind. The target's
 * counts (history/target-stats.ts) are kept whatever became of the record.
 * KEYS: every webhook's index, the list of `by` indexes. ARGV: the batch.
 * Returns how many webhooks the history holds, which tells whether to trim.
 */
const writeBatch = new RedisScript(`
local writes = cjson.decode(ARGV[1])
for _, w in ipairs(writes) do
  if w.t == "record" then
    redis.call("RPUSH", w.key, w.record)
    redis.call("PEXPIRE", w.key, w.ttl)
    redis.call("ZADD", KEYS[1], w.score, w.id)
    for _, index in ipairs(w.indexes) do redis.call("ZADD", index, w.score, w.id) end
    for _, ticket in ipairs(w.tickets) do
      redis.call("ZADD", ticket, w.score, w.id)
      redis.call("PEXPIRE", ticket, w.ttl)
    end
    if w.body then
      redis.call("HSET", w.bodyKey, "${bodyFieldName}", w.body)
      redis.call("PEXPIRE", w.bodyKey, w.ttl)
    end
  elseif w.t == "step" then
    if w.counted then
      redis.call("HINCRBY", w.hour, w.counted, 1)
      redis.call("PEXPIRE", w.hour, w.hourTtl)
      redis.call("HINCRBY", w.five, w.counted, 1)
      redis.call("PEXPIRE", w.five, w.fiveTtl)
    end
    if w.lastError then redis.call("SET", w.lastErrorKey, w.lastError, "PX", w.lastErrorTtl) end
    if redis.call("RPUSHX", w.key, w.step) > 0 then
      redis.call("LTRIM", w.key, 0, w.maxElements - 1)
      for _, index in ipairs(w.indexes) do
        if w.score then redis.call("ZADD", index, w.score, w.id) else redis.call("ZADD", index, "NX", w.now, w.id) end
      end
      if w.eventId then
        redis.call("HSETNX", w.bodyKey, w.eventId, w.event)
        redis.call("PEXPIRE", w.bodyKey, w.bodyTtl)
      end
    end
  elseif w.t == "line" then
    redis.call("LPUSH", w.key, w.line)
    redis.call("LTRIM", w.key, 0, w.max - 1)
    redis.call("PEXPIRE", w.key, w.ttl)
  end
  if w.register then
    for _, index in ipairs(w.register) do redis.call("SADD", KEYS[2], index) end
  end
end
return redis.call("ZCARD", KEYS[1])`);

/** An hour's counts are kept a day and an hour: the overview shows the last hour and day. */
const hourCountTtlMs = 25 * 3_600_000;
const fiveMinuteCountTtlMs = 65 * 60_000;

/** What a step counts as in its target's hour: the console's overview shows these. */
export type CountedStep = "delivered" | "failed" | "dead" | "held" | "dropped";

function countedAs(step: DeliveryStep): CountedStep | undefined {
  switch (step.kind) {
    case "delivered":
    case "alreadySent":
    case "digested":
      return "delivered";
    case "failed":
    case "dead":
    case "held":
    case "dropped":
      return step.kind;
    default:
      return undefined;
  }
}

/** One write of the history, as the batch script takes it. */
type Write = Record<string, unknown> & { t: "record" | "step" | "line"; register?: string[] };

/**
 * Writes the history (history/records.ts): a record when a webhook is routed, a step for each
 * thing that happens to its deliveries, a line for each refused request. Writes made in one tick
 * of the event loop go in one script call (queue/same-tick-batch.ts, `writeBatch` above). Recording
 * is best-effort: a write that fails is left out, never retried and never in a delivery's way,
 * and while Redis is near `maxmemory` nothing is written (history/memory-guard.ts).
 */
export class HistoryRecorder {
  readonly retention: HistoryRetention;
  readonly #registered = new Set<string>();
  /** Records and steps left out while recording was paused. */
  skipped = 0;
  readonly #writes = new SameTickBatch<Write, void>(
    async (writes) => {
      const count = Number(
        await writeBatch.run(this.redis, [this.keys.webhooks, this.keys.indexes], [JSON.stringify(writes)]),
      );
      // The count after each batch tells whether the oldest records must go.
      if (count > this.settings.maxWebhooks) void this.retention.trimSoon().catch(() => undefined);
      return writes.map(() => undefined);
    },
    { maxWeight: 500 },
  );
  readonly #failed: (error: Error) => void;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: HistoryKeys,
    private readonly settings: Pick<HistoryConfig, "maxAge" | "maxWebhooks" | "refused" | "bodies">,
    logger: Logger,
    /** Whether to write now: not while Redis is near `maxmemory` (history/memory-guard.ts). */
    private readonly now: { readonly paused: boolean },
  ) {
    this.retention = new HistoryRetention(redis, keys, settings);
    let lastWarned = Number.NEGATIVE_INFINITY;
    this.#failed = (error) => {
      if (Date.now() - lastWarned < 60_000) return;
      lastWarned = Date.now();
      logger.warn({ err: error }, "history not recorded (Redis); deliveries go on");
    };
  }

  /**
   * A routed webhook's record, with its indexes. `body` is the webhook's JSON, kept with
   * `history.bodies: all`. Written before its deliveries are queued, on the connection that
   * queues them, so that a delivery's first step always finds its record.
   */
  routed(record: WebhookRecord, body?: () => string): void {
    const { maxAge } = this.settings;
    // A ticket's index expires with its newest record; only `by` indexes are listed for the sweep.
    const tickets = new Set(
      record.events.flatMap(({ ticketId, conversationId }) => {
        const conversation = ticketId ?? conversationId;
        return conversation === undefined ? [] : [this.keys.ticket(conversation)];
      }),
    );
    const indexes = indexesOf(this.keys, record).filter((index) => !tickets.has(index));
    if (record.deliveries.length === 0) indexes.push(this.keys.by("outcome", "no-route"));
    const keep = body && this.settings.bodies === "all";
    void this.#write({
      t: "record",
      key: this.keys.webhook(record.id),
      record: JSON.stringify(record),
      id: record.id,
      score: String(Date.parse(record.receivedAt)),
      ttl: String(maxAge),
      indexes,
      tickets: [...tickets],
      ...(keep && { body: body(), bodyKey: this.keys.body(record.id) }),
      register: this.#unregistered(indexes),
    });
  }

  /**
   * One step of one delivery, added to its webhook's record if the record is still kept. With
   * `history.bodies: failures`, a failed try keeps its event (`event`: its id and JSON).
   */
  step(
    receiptId: string,
    receivedAt: string,
    step: Step & { d: string },
    event?: { id: string; json: () => string },
  ): Promise<void> {
    const receivedMs = Date.parse(receivedAt);
    const indexes = outcomesOf(step as DeliveryStep).map((outcome) => this.keys.by("outcome", outcome));
    // A failed event, kept once (`history.bodies: failures`) for as long as its record.
    const kept = event && step.kind === "failed" && this.settings.bodies === "failures" ? event : undefined;
    const now = Date.now();
    const target = "target" in step ? step.target : "";
    const counted = countedAs(step as DeliveryStep);
    const failed = step.kind === "failed" || step.kind === "dead";
    return this.#write({
      t: "step",
      key: this.keys.webhook(receiptId),
      step: JSON.stringify(step),
      id: receiptId,
      maxElements: String(maxElements),
      indexes,
      // A step whose webhook's time is not known (a replay noted by id) joins an index only if new there.
      ...(Number.isNaN(receivedMs) ? { now: String(now) } : { score: String(receivedMs) }),
      ...(counted && {
        counted,
        hour: this.keys.targetHour(target, now),
        hourTtl: String(hourCountTtlMs),
        five: this.keys.targetFiveMinutes(target, now),
        fiveTtl: String(fiveMinuteCountTtlMs),
      }),
      ...(failed && {
        lastError: JSON.stringify({ at: now, failure: step.failure }),
        lastErrorKey: this.keys.targetLastError(target),
        lastErrorTtl: String(this.settings.maxAge),
      }),
      ...(kept && {
        eventId: kept.id,
        event: kept.json(),
        bodyKey: this.keys.body(receiptId),
        bodyTtl: String(Math.max(1, receivedMs + this.settings.maxAge - now)),
      }),
      register: this.#unregistered(indexes),
    });
  }

  /** An action taken by hand, in the capped list of them; kept as long as the history keeps webhooks. */
  action(action: TakenAction): Promise<void> {
    return this.#line(this.keys.actions, JSON.stringify(action), maxActions);
  }

  /** A refused request, in its source's capped list. */
  refused(request: RefusedRequest): void {
    if (this.settings.refused === 0) return;
    void this.#line(this.keys.refused(request.source), JSON.stringify(request), this.settings.refused);
  }

  /** A line at the head of a capped list, kept as long as the history keeps webhooks. */
  #line(key: string, line: string, max: number): Promise<void> {
    return this.#write({ t: "line", key, line, max: String(max), ttl: String(this.settings.maxAge) });
  }

  /** Resolves once written, or left out: it never rejects. */
  #write(write: Write): Promise<void> {
    if (this.now.paused) {
      this.skipped += 1;
      return Promise.resolve();
    }
    return this.#writes.call(write).catch(this.#failed);
  }

  /** The indexes not yet named in the list the sweep by age walks, by this process. */
  #unregistered(indexes: readonly string[]): string[] | undefined {
    const fresh = indexes.filter((key) => !this.#registered.has(key));
    if (fresh.length === 0) return undefined;
    if (this.#registered.size > 10_000) this.#registered.clear();
    for (const key of fresh) this.#registered.add(key);
    return fresh;
  }
}
