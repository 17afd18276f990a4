import { type Logger, throttledWarning } from "../log.js";
import { type IntakeFallback, QueueUnavailable, type StoreInRedis } from "../queue/inbound/intake.js";
import { type Spool, SpoolFull } from "./spool.js";
import type { RedisLink } from "./spool-drainer.js";
import { encodeSpooledWebhook, type SpooledWebhook } from "./spooled-webhook.js";

/**
 * With a spool, how long ingest waits for Redis before it writes the webhook to the spool
 * instead: long enough for Redis' own short stalls, short enough that a sender is not held.
 * A write given up on may still land; the spooled copy then drains as a duplicate (its
 * duplicate key), or is routed into the same delivery ids, which BullMQ adds once.
 */
const redisBeforeSpoolMs = 1000;

/**
 * Where ingest stores a webhook when a spool is configured: in Redis while Redis takes it and
 * the spool is empty; in the spool while Redis is away, stalls or refuses, and for as long as
 * the spool still holds records, so webhooks reach Redis in the order they were accepted.
 * When the spool is full a webhook goes to Redis if Redis takes it, else it is refused (503).
 */
export class SpoolFallback implements IntakeFallback {
  #full = false;
  readonly #warn: (error: Error) => void;

  constructor(
    private readonly spool: Spool,
    private readonly redis: RedisLink,
    logger: Logger,
  ) {
    this.#warn = throttledWarning(logger, "spool: cannot write a webhook to the spool");
  }

  async accept(webhook: SpooledWebhook, store: StoreInRedis): Promise<"stored" | "duplicate" | "spooled"> {
    // Behind every webhook already answered from the spool; beside those still being written,
    // which were not answered yet, so no order is promised between them.
    if (this.spool.depth.records === 0 && this.redis.status === "ready") {
      try {
        return await store(redisBeforeSpoolMs);
      } catch (error) {
        if (!(error instanceof QueueUnavailable)) throw error;
      }
    }
    try {
      await this.spool.append(encodeSpooledWebhook(webhook));
      this.#full = false;
      return "spooled";
    } catch (error) {
      this.#full = error instanceof SpoolFull;
      this.#warn(error as Error);
      if (this.redis.status === "ready") return store();
      throw new QueueUnavailable(`Redis is unreachable and ${(error as Error).message}`);
    }
  }

  /** "spooling" while webhooks go to the spool or wait in it, unless it is full. */
  degraded(): string | undefined {
    if (this.#full && this.redis.status !== "ready") return undefined;
    return this.spool.holdsRecords() || this.redis.status !== "ready" ? "spooling" : undefined;
  }
}
