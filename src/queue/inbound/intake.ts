import { hash } from "node:crypto";
import type { Receipt } from "../../events.js";
import { answerWithin, isRedisUnavailable, redisAnswers } from "../../redis/connections.js";
import type { RedisClient } from "../../redis/connector.js";
import type { WebhookStream, WebhookToStore } from "./webhook-stream.js";

/** How long a sender's signed message id is remembered; longer than Standard Webhooks senders retry. */
const signedIdWindowMs = 24 * 60 * 60 * 1000;

/**
 * How long ingest waits for Redis to store a webhook. Long enough for a brief stall (an fsync,
 * a paused client, a failover) to finish, so the answer says what Redis did; well inside the
 * 20 s Socialboards allows. A write still pending after it may yet land: the sender's retry of
 * the same body is then recognised as a duplicate (a source's `dedupe.window`), not stored twice.
 */
const storeTimeoutMs = 5000;

/**
 * Redis cannot take the event now; the HTTP layer answers 503 so the platform sends it again.
 * The message says what Redis did, for the log; the sender is told only to send it again.
 */
export class QueueUnavailable extends Error {
  override name = "QueueUnavailable";
  readonly status = 503;
  readonly expose = false;
  readonly headers = { "Retry-After": "5" };
  readonly answer = "cannot store the webhook right now (Redis is unreachable); send it again";
}

export interface IntakeOptions {
  /**
   * A source's body-digest deduplication window (its `dedupe.window`), for senders that sign
   * no message id; 0 turns it off.
   */
  dedupWindowMs: (sourceId: string) => number;
  timeoutMs?: number;
  /** Where a webhook goes when Redis cannot take it (the spool, spool/); without one, a 503. */
  fallback?: IntakeFallback;
}

/** Stores the webhook in Redis, waiting at most `timeoutMs` (ingest's own timeout if left out). */
export type StoreInRedis = (timeoutMs?: number) => Promise<"stored" | "duplicate">;

/** Decides where an accepted webhook is stored: in Redis through `store`, or elsewhere. */
export interface IntakeFallback {
  accept(webhook: WebhookToStore, store: StoreInRedis): Promise<"stored" | "duplicate" | "spooled">;
  /** Why ingest is ready but not as usual (e.g. "spooling"), for /readyz; undefined when it is. */
  degraded(): string | undefined;
}

/** What ingest is given to store: the receipt, the parsed body and the exact bytes received. */
export interface Webhook {
  receipt: Receipt;
  payload: unknown;
  /** The JSON `payload` was parsed from, checked to be UTF-8: stored as it is. */
  rawBody: Buffer;
  /** The same bytes as text, when the caller decoded them already (the HTTP layer did, to parse). */
  bodyText?: string;
  /** The sender's signed id for this message, when it has one (Standard Webhooks' `webhook-id`). */
  messageId?: string;
}

/** The ingest side of the queue: stores one accepted webhook, once, within a bounded time. */
export class Intake {
  readonly #timeoutMs: number;

  constructor(
    private readonly redis: RedisClient,
    /** Where webhooks wait for routing; those arriving together are stored in one script call. */
    private readonly stream: WebhookStream,
    private readonly options: IntakeOptions,
  ) {
    this.#timeoutMs = options.timeoutMs ?? storeTimeoutMs;
  }

  /**
   * Resolves "stored" once Redis holds the webhook, "duplicate" when Redis already holds the
   * same message (same signed id in the last 24 h, or the same bytes within the source's dedupe window),
   * and rejects with QueueUnavailable when Redis cannot take it. The duplicate check is part of
   * the same atomic Redis script as the write (queue/inbound/webhook-stream.ts), so a write that lands
   * after we gave up on it still makes the sender's retry a duplicate. With a fallback (a spool),
   * it decides: "spooled" means the webhook is on this machine's disk, to be stored later.
   */
  async accept(webhook: Webhook): Promise<"stored" | "duplicate" | "spooled"> {
    const deduplication = this.#deduplicationFor(webhook);
    const { fallback } = this.options;
    const entry = { receipt: webhook.receipt, payload: webhook.payload, deduplication };
    const toRedis = { ...entry, payloadJson: webhook.bodyText ?? webhook.rawBody.toString("utf8") };
    if (fallback) return fallback.accept(entry, (timeoutMs) => this.#store(toRedis, timeoutMs));
    return this.#store(toRedis);
  }

  async #store(entry: WebhookToStore, timeoutMs = this.#timeoutMs): Promise<"stored" | "duplicate"> {
    if (this.redis.status !== "ready") throw new QueueUnavailable(`Redis is ${this.redis.status}`);
    try {
      return await answerWithin(this.stream.store(entry), timeoutMs);
    } catch (error) {
      if (isRedisFailure(error, this.redis)) throw new QueueUnavailable((error as Error).message);
      throw error;
    }
  }

  #deduplicationFor({ receipt, rawBody, messageId }: Webhook) {
    if (messageId !== undefined) return { id: `${receipt.source}.id.${digest(messageId)}`, ttl: signedIdWindowMs };
    const window = this.options.dedupWindowMs(receipt.source);
    if (window <= 0) return undefined;
    return { id: `${receipt.source}.body.${digest(rawBody)}`, ttl: window };
  }

  /** Resolves true once the connection is ready, or false after `ms`. */
  waitUntilReady(ms: number): Promise<boolean> {
    if (this.redis.status === "ready") return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ready: boolean) => {
        clearTimeout(timer);
        this.redis.off("ready", onReady);
        resolve(ready);
      };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), ms);
      this.redis.on("ready", onReady);
    });
  }

  /** Why ingest is degraded (a spool in use), for /readyz. */
  degraded(): string | undefined {
    return this.options.fallback?.degraded();
  }

  /** Is Redis answering now? For /readyz. */
  ping(): Promise<boolean> {
    return redisAnswers(this.redis);
  }
}

/** Sender-chosen strings become fixed-size key parts: a 16 KB header must not make a 16 KB key. */
function digest(value: string | Buffer): string {
  return hash("sha256", value, "base64url");
}

/**
 * Only Redis saying no (OOM, READONLY, LOADING …), a lost connection or no answer in time mean
 * "send it again later". Anything else is a bug or a payload we should have refused, and
 * must not be dressed up as an outage that the sender would retry forever.
 */
function isRedisFailure(error: unknown, redis: RedisClient): boolean {
  if (!(error instanceof Error)) return false;
  return redis.status !== "ready" || isRedisUnavailable(error);
}
