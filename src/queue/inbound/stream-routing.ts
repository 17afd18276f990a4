import type { Queue } from "bullmq";
import { type Logger, throttledWarning } from "../../log.js";
import {
  isRedisUnavailable,
  pauseAfterRedisFailures,
  type RedisClient,
  warnIfRedisOlderThan,
} from "../../redis/connections.js";
import type { InboundJob } from "../jobs.js";
import type { WebhookRouting } from "./webhook-routing.js";
import type { StoredWebhook } from "./webhook-stream.js";
import type { WebhookStreamConsumer } from "./webhook-stream-consumer.js";

/** Most webhooks one read takes: a burst is routed in a few reads, and their deliveries added together. */
const readCount = 200;
/**
 * About how many bytes of webhooks one read brings into memory: a read takes fewer webhooks
 * when they are big (the last read's average size tells), so 200 webhooks of a megabyte each
 * are not held at once.
 */
const readBytes = 4 * 1024 * 1024;
/** How long a read waits for a webhook before it looks again (and notices a close). */
const readBlockMs = 1000;
/** A stopped process's name leaves the consumer group after a day with nothing pending. */
const forgetConsumersAfterMs = 24 * 3600_000;
/** Redis 6.2 brought XAUTOCLAIM, which takes over what a stopped worker read. */
const minimumRedis: [number, number] = [6, 2];

export interface StreamRoutingOptions {
  stream: WebhookStreamConsumer;
  /** The connection the stream works through, to tell at close whether Redis is there. */
  redis: RedisClient;
  /** A connection for the blocking read alone. */
  blocking: RedisClient;
  routing: WebhookRouting;
  inbound: Queue<InboundJob>;
  /** How long an entry read and not finished is left to its worker (the workers' lockDuration). */
  staleAfterMs: number;
  /** How often stale entries are looked for (the workers' stalledInterval). */
  sweepEveryMs: number;
  logger: Logger;
}

/**
 * Routes webhooks from the stream (queue/inbound/webhook-stream.ts) as they come, many per read. What
 * it cannot route goes to the inbound queue, where BullMQ retries it with backoff and keeps it
 * failed for a look and a replay: a webhook whose routing threw (a bug, a source gone from the
 * config), and one a stopped worker had read but not finished. The second is taken over only
 * after `staleAfterMs` (a live worker renews its claim meanwhile), once, and never routed here
 * again: a webhook that crashes the process that routes it ends in BullMQ's count of tries.
 *
 * A loop with a lifecycle, as BullMQ's Worker: `run()` starts the read loop and the sweeps,
 * `close()` stops them and lets what is in hand finish.
 */
export class StreamRouting {
  readonly #warn: (error: Error) => void;
  #closed = false;
  /** The read loop, from its start (the Redis version check, the group) until it notices a close. */
  #reading: Promise<void> | undefined;
  #sweeper: NodeJS.Timeout | undefined;
  /** The sweep under way, if one is: one at a time. */
  #sweeping: Promise<void> | undefined;
  /** How many webhooks the next read takes: fewer after a read of big ones. */
  #count = readCount;

  constructor(private readonly deps: StreamRoutingOptions) {
    this.#warn = throttledWarning(deps.logger, "routing: Redis failed reading webhooks; trying again", 10_000);
  }

  /** Starts reading and sweeping; resolves once the read loop has stopped after `close()`. */
  run(): Promise<void> {
    if (this.#reading) throw new Error("stream routing is already running");
    const { stream, redis, logger } = this.deps;
    this.#sweeper = setInterval(() => {
      // One sweep at a time: during an outage a sweep waits for Redis, and the next ones are skipped.
      this.#sweeping ??= this.#retryIfFailed(() => this.#sweep(), { retry: false }).finally(() => {
        this.#sweeping = undefined;
      });
    }, this.deps.sweepEveryMs);
    this.#sweeper.unref();
    this.#reading = warnIfRedisOlderThan(
      minimumRedis,
      "webhooks a stopped worker had read are not taken over",
      redis,
      logger,
    )
      .then(() => stream.ensureGroup())
      .catch(() => undefined) // Redis away at start: the read loop retries, and NOGROUP makes the group
      .then(() => this.#mainLoop());
    return this.#reading;
  }

  async close(): Promise<void> {
    const { redis, blocking } = this.deps;
    this.#closed = true;
    clearInterval(this.#sweeper);
    // With Redis away nothing in hand can finish, as with BullMQ's workers (closeWorker): what
    // this worker read stays pending, and another takes it over once it is stale.
    if (redis.status !== "ready") {
      blocking.disconnect();
      return;
    }
    // A blocked read ends within readBlockMs; what it brings is routed before the worker
    // stops, instead of waiting to be taken over after every deploy.
    const stuck = setTimeout(() => blocking.disconnect(), readBlockMs + 1000);
    await this.#reading;
    clearTimeout(stuck);
    await this.#sweeping;
  }

  async #mainLoop(): Promise<void> {
    while (!this.#closed) await this.#retryIfFailed(() => this.#readAndRoute(), { retry: true });
  }

  /**
   * Runs `attempt` until it succeeds or the routing closes (BullMQ's Worker.retryIfFailed); Redis failing is the one way it
   * fails (routing errors are handed to the inbound queue before they reach here). A retry
   * waits longer after each failure in a row (pauseAfterRedisFailures), except when the
   * stream or its group is gone (Redis lost its data): made again, it is tried at once.
   * Each failure is warned about (throttled). With `retry: false` a failure is only warned
   * about, for work that comes round again by itself (the sweep).
   */
  async #retryIfFailed(attempt: () => Promise<void>, { retry }: { retry: boolean }): Promise<void> {
    let failures = 0;
    while (!this.#closed) {
      try {
        return await attempt();
      } catch (error) {
        if (this.#closed) return;
        if (!retry) {
          this.#warn(error as Error);
          return;
        }
        if ((error as Error).message?.startsWith("NOGROUP") && (await this.#groupMadeAgain())) continue;
        this.#warn(error as Error);
        failures += 1;
        await new Promise((resolve) => setTimeout(resolve, pauseAfterRedisFailures(failures)));
      }
    }
  }

  #groupMadeAgain(): Promise<boolean> {
    return this.deps.stream.ensureGroup().then(
      () => true,
      () => false,
    );
  }

  /** One read of the stream, and the routing of what it brought. */
  async #readAndRoute(): Promise<void> {
    const batch = await this.deps.stream.read(this.deps.blocking, this.#count, readBlockMs);
    if (batch.length === 0) return;
    const averageBytes = batch.reduce((sum, stored) => sum + stored.entry.length, 0) / batch.length;
    this.#count = Math.max(1, Math.min(readCount, Math.floor(readBytes / Math.max(1, averageBytes))));
    await this.#routeAll(batch);
  }

  /** Routes a batch: marks routed what was, then hands what failed to the inbound queue. */
  async #routeAll(batch: StoredWebhook[]): Promise<void> {
    const { stream, routing, logger } = this.deps;
    const routed: string[] = [];
    const failed: StoredWebhook[] = [];
    // Renews the claim while the batch is routed; a renewal that fails is harmless: the next one tries again.
    const keeper = setInterval(
      () => void stream.keepClaimed(batch.map(({ streamId }) => streamId)).catch(() => undefined),
      this.deps.staleAfterMs / 2,
    );
    try {
      await Promise.all(
        batch.map(async (stored) => {
          if (!stored.webhook) {
            failed.push(stored);
            return;
          }
          try {
            await routing.route(stored.webhook);
            routed.push(stored.streamId);
          } catch (error) {
            // Redis failing: the entry stays pending and is taken over once stale.
            if (isRedisUnavailable(error)) return;
            logger.warn(
              { receiptId: stored.webhook.receipt.id, err: error },
              "routing failed; the webhook goes to the inbound queue to be tried again",
            );
            failed.push(stored);
          }
        }),
      );
      await stream.markRouted(routed);
      await this.#handToInboundQueue(failed);
    } finally {
      clearInterval(keeper);
    }
  }

  /**
   * Adds webhooks to the inbound queue (job id: the receipt id), then marks them routed here.
   * An entry that is not a webhook is set aside instead: ingest wrote it, so it is a bug.
   */
  async #handToInboundQueue(webhooks: StoredWebhook[]): Promise<void> {
    const { stream, logger } = this.deps;
    const readable = webhooks.filter((stored) => stored.webhook);
    const unreadable = webhooks.filter((stored) => !stored.webhook);
    if (unreadable.length > 0) {
      logger.error(
        { streamIds: unreadable.map(({ streamId }) => streamId) },
        "routing: a stored entry is not a webhook; set aside in the webhooks:unreadable stream",
      );
      await stream.setAside(unreadable);
    }
    if (readable.length > 0) {
      await this.deps.inbound.addBulk(
        readable.map(({ webhook }) => {
          const { receipt, payload } = webhook as InboundJob;
          return { name: receipt.source, data: { receipt, payload }, opts: { jobId: receipt.id } };
        }),
      );
    }
    await stream.markRouted(readable.map(({ streamId }) => streamId));
  }

  /** Takes over what stopped workers read and never finished, through the whole group. */
  async #sweep(): Promise<void> {
    const { stream, logger } = this.deps;
    let cursor = "0-0";
    do {
      const { stale, next } = await stream.claimStale(this.deps.staleAfterMs, readCount, cursor);
      if (stale.length > 0) {
        logger.warn(
          { webhooks: stale.length },
          "routing: took over webhooks a stopped worker had read; retried from the inbound queue",
        );
        await this.#handToInboundQueue(stale);
      }
      cursor = next;
    } while (cursor !== "0-0" && !this.#closed);
    await stream.forgetIdleConsumers(forgetConsumersAfterMs);
  }
}
