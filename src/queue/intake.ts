import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import type { Logger } from "../log.js";
import type { Receipt } from "../sources/source.js";
import { type InboundJob, inboundQueueName, keepCompleted, keepFailedInbound } from "./jobs.js";

/** How long a sender's message id is remembered; longer than Standard Webhooks senders retry. */
const seenForMs = 24 * 60 * 60 * 1000;

/** Redis cannot take the event now; the HTTP layer answers 503 so the platform sends it again. */
export class QueueUnavailable extends Error {
  override name = "QueueUnavailable";
}

/**
 * The ingest side of the queue: stores one accepted webhook, within a bounded time.
 * Socialboards wants an answer within 20 s; we give up on Redis after `timeoutMs` so the
 * answer is a quick 503 instead.
 */
export class Intake {
  readonly #queue: Queue<InboundJob>;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly logger: Logger,
    private readonly timeoutMs = 2000,
  ) {
    this.#queue = new Queue<InboundJob>(inboundQueueName, {
      connection: redis,
      prefix,
      defaultJobOptions: {
        // Routing fails only when Redis does mid-way, or on a bug: try a few times, then keep
        // the payload in the failed set, where it can be replayed.
        attempts: 5,
        backoff: { type: "exponential", delay: 1000 },
        removeOnComplete: keepCompleted,
        removeOnFail: keepFailedInbound,
      },
    });
    this.#queue.on("error", (error) => this.logger.warn({ err: error.message }, "inbound queue error"));
  }

  /**
   * Resolves once Redis holds the webhook; rejects with QueueUnavailable otherwise. With a
   * `messageId` (a signed id from the sender), a message already stored under that id in the
   * last 24 h is not stored again: the answer is "duplicate" and nothing is delivered twice.
   */
  async accept(receipt: Receipt, payload: unknown, messageId?: string): Promise<"stored" | "duplicate"> {
    if (this.redis.status !== "ready") throw new QueueUnavailable(`Redis is ${this.redis.status}`);
    const seenKey = messageId === undefined ? undefined : `${this.prefix}:seen:${receipt.source}:${messageId}`;
    try {
      if (seenKey) {
        const first = await withTimeout(this.redis.set(seenKey, receipt.id, "PX", seenForMs, "NX"), this.timeoutMs);
        if (first === null) return "duplicate";
      }
      await withTimeout(this.#queue.add(receipt.source, { receipt, payload }, { jobId: receipt.id }), this.timeoutMs);
      return "stored";
    } catch (error) {
      // Not stored, so the sender's retry with the same id must not be taken for a duplicate.
      if (seenKey) await this.redis.del(seenKey).catch(() => undefined);
      throw new QueueUnavailable((error as Error).message);
    }
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

  /** Is Redis answering now? For /readyz. */
  async ping(): Promise<boolean> {
    if (this.redis.status !== "ready") return false;
    try {
      return (await withTimeout(this.redis.ping(), this.timeoutMs)) === "PONG";
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.#queue.close();
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
