import type { ChainableCommander } from "ioredis";
import type { HistoryConfig } from "../config/history-schema.js";
import type { Logger } from "../log.js";
import { SameTickBatch } from "../queue/same-tick-batch.js";
import type { RedisClient } from "../redis/connector.js";
import type { Facet, HistoryKeys } from "./history-keys.js";
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
/** Actions taken by hand kept at most. */
const maxActions = 1000;
/** Steps kept in a record's list: its first element is the webhook. */
const maxElements = maxStepsPerWebhook + 1;

/**
 * Adds a step to a webhook's record, and the webhook to the outcome indexes the step puts it
 * in, only while the record is kept: a step that comes after its record was trimmed (its
 * delivery outlived `history.maxWebhooks`) or forgotten must leave no index entry behind. The
 * target's count for the hour is kept whatever became of the record: the console's overview
 * reads those (history/target-stats.ts).
 * KEYS: the record, its body key, the target's hour count, its last error, its five-minute
 * count, then each outcome index. ARGV: the step, the most elements a record keeps, the receipt
 * id, its score in the indexes ("": the time now, if new there), the time now (ms), the id and
 * JSON of a failed event to keep ("": none), the body key's lifetime, the field of the counts
 * to add to ("": none), the hour count's lifetime, the last error to keep ("": none) and its
 * lifetime, the five-minute count's lifetime.
 */
const addStep = `
if ARGV[9] ~= "" then
  redis.call("HINCRBY", KEYS[3], ARGV[9], 1)
  redis.call("PEXPIRE", KEYS[3], ARGV[10])
  redis.call("HINCRBY", KEYS[5], ARGV[9], 1)
  redis.call("PEXPIRE", KEYS[5], ARGV[13])
end
if ARGV[11] ~= "" then redis.call("SET", KEYS[4], ARGV[11], "PX", ARGV[12]) end
if redis.call("RPUSHX", KEYS[1], ARGV[1]) == 0 then return 0 end
redis.call("LTRIM", KEYS[1], 0, tonumber(ARGV[2]) - 1)
for i = 6, #KEYS do
  if ARGV[4] == "" then redis.call("ZADD", KEYS[i], "NX", ARGV[5], ARGV[3]) else redis.call("ZADD", KEYS[i], ARGV[4], ARGV[3]) end
end
if ARGV[6] ~= "" then
  redis.call("HSETNX", KEYS[2], ARGV[6], ARGV[7])
  redis.call("PEXPIRE", KEYS[2], ARGV[8])
end
return 1`;

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

/** `addStep` as a command of the connection: ioredis sends its text once per connection, then its SHA1. */
const addStepCommand = "ticketRelayHistoryAddStep";
type WithAddStep = ChainableCommander & Record<typeof addStepCommand, (...args: (string | number)[]) => unknown>;

/** One write of the history, added to the pipeline of its tick. */
type Write = (pipeline: ChainableCommander) => void;

/**
 * Writes the history (history/records.ts): a record when a webhook is routed, a step for each
 * thing that happens to its deliveries, a line for each refused request. Writes made in one tick
 * of the event loop go in one pipeline, as sent marks do (queue/same-tick-batch.ts). Recording
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
      const pipeline = this.redis.pipeline();
      for (const write of writes) write(pipeline);
      // One count per batch tells whether the oldest records must go.
      pipeline.zcard(this.keys.webhooks);
      const results = await pipeline.exec();
      const count = Number(results?.at(-1)?.[1] ?? 0);
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
    if (!(addStepCommand in redis)) redis.defineCommand(addStepCommand, { lua: addStep });
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
    const receivedMs = Date.parse(record.receivedAt);
    const { maxAge } = this.settings;
    void this.#write((pipeline) => {
      const key = this.keys.webhook(record.id);
      pipeline.rpush(key, JSON.stringify(record));
      pipeline.pexpire(key, maxAge);
      pipeline.zadd(this.keys.webhooks, receivedMs, record.id);
      // A ticket's index expires with its newest record; only `by` indexes are listed for the sweep.
      const tickets = new Set(
        record.events.flatMap(({ ticketId, conversationId }) => {
          const conversation = ticketId ?? conversationId;
          return conversation === undefined ? [] : [this.keys.ticket(conversation)];
        }),
      );
      for (const index of indexesOf(this.keys, record)) {
        pipeline.zadd(index, receivedMs, record.id);
        if (tickets.has(index)) pipeline.pexpire(index, maxAge);
        else this.#register(pipeline, index);
      }
      if (record.deliveries.length === 0) this.#index(pipeline, "outcome", "no-route", record.id, receivedMs);
      if (body && this.settings.bodies === "all") {
        pipeline.hset(this.keys.body(record.id), bodyField, body());
        pipeline.pexpire(this.keys.body(record.id), maxAge);
      }
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
    return this.#write((pipeline) => {
      const outcomeIndexes = outcomesOf(step as DeliveryStep).map((outcome) => this.keys.by("outcome", outcome));
      for (const index of outcomeIndexes) this.#register(pipeline, index);
      // A failed event, kept once (`history.bodies: failures`) for as long as its record.
      const kept = event && step.kind === "failed" && this.settings.bodies === "failures" ? event : undefined;
      const now = Date.now();
      const target = "target" in step ? step.target : "";
      const counted = countedAs(step as DeliveryStep);
      const lastError =
        step.kind === "failed" || step.kind === "dead" ? JSON.stringify({ at: now, failure: step.failure }) : "";
      const keys = [
        this.keys.webhook(receiptId),
        this.keys.body(receiptId),
        this.keys.targetHour(target, now),
        this.keys.targetLastError(target),
        this.keys.targetFiveMinutes(target, now),
        ...outcomeIndexes,
      ];
      const score = Number.isNaN(receivedMs) ? "" : String(receivedMs);
      const bodyTtl = Math.max(1, receivedMs + this.settings.maxAge - now);
      const args = [
        JSON.stringify(step),
        maxElements,
        receiptId,
        score,
        now,
        kept?.id ?? "",
        kept?.json() ?? "",
        bodyTtl,
        counted ?? "",
        hourCountTtlMs,
        lastError,
        this.settings.maxAge,
        fiveMinuteCountTtlMs,
      ];
      (pipeline as WithAddStep)[addStepCommand](keys.length, ...keys, ...args);
    });
  }

  /** An action taken by hand, in the capped list of them; kept as long as the history keeps webhooks. */
  action(action: TakenAction): Promise<void> {
    return this.#write((pipeline) => {
      pipeline.lpush(this.keys.actions, JSON.stringify(action));
      pipeline.ltrim(this.keys.actions, 0, maxActions - 1);
      pipeline.pexpire(this.keys.actions, this.settings.maxAge);
    });
  }

  /** A refused request, in its source's capped list. */
  refused(request: RefusedRequest): void {
    if (this.settings.refused === 0) return;
    void this.#write((pipeline) => {
      const key = this.keys.refused(request.source);
      pipeline.lpush(key, JSON.stringify(request));
      pipeline.ltrim(key, 0, this.settings.refused - 1);
      pipeline.pexpire(key, this.settings.maxAge);
    });
  }

  /** Resolves once written, or left out: it never rejects. */
  #write(write: Write): Promise<void> {
    if (this.now.paused) {
      this.skipped += 1;
      return Promise.resolve();
    }
    return this.#writes.call(write).catch(this.#failed);
  }

  /** Adds to a `by` index; a duplicate's webhook keeps the score it has (`NaN`: only if new). */
  #index(pipeline: ChainableCommander, facet: Facet, value: string, receiptId: string, score: number): void {
    const key = this.keys.by(facet, value);
    if (Number.isNaN(score)) {
      // ZADD needs a score: the record's own time, read from the main index, is not at hand here.
      pipeline.zadd(key, "NX", Date.now(), receiptId);
    } else {
      pipeline.zadd(key, score, receiptId);
    }
    this.#register(pipeline, key);
  }

  /** Names an index once per process in the list the sweep by age walks. */
  #register(pipeline: ChainableCommander, key: string): void {
    if (this.#registered.has(key)) return;
    if (this.#registered.size > 10_000) this.#registered.clear();
    this.#registered.add(key);
    pipeline.sadd(this.keys.indexes, key);
  }
}
