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

/**
 * Routes webhooks from the stream (queue/inbound/webhook-stream.ts) as they come, many per read. What
 * it cannot route goes to the inbound queue, where BullMQ retries it with backoff and keeps it
 * failed for a look and a replay: a webhook whose routing threw (a bug, a source gone from the
 * config), and one a stopped worker had read but not finished. The second is taken over only
 * after `staleAfterMs` (a live worker renews its claim meanwhile), once, and never routed here
 * again: a webhook that crashes the process that routes it ends in BullMQ's count of tries.
 */
export function startStreamRouting(deps: {
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
}): { close(): Promise<void> } {
  const { stream, routing, logger } = deps;
  const warn = throttledWarning(logger, "routing: Redis failed reading webhooks; trying again", 10_000);
  let closed = false;

  /** Routes a batch: marks routed what was, then hands what failed to the inbound queue. */
  async function routeAll(batch: StoredWebhook[]): Promise<void> {
    const routed: string[] = [];
    const failed: StoredWebhook[] = [];
    const keeper = setInterval(
      () => void stream.keepClaimed(batch.map(({ streamId }) => streamId)).catch(() => undefined),
      deps.staleAfterMs / 2,
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
              { receiptId: stored.webhook.receipt.id, err: (error as Error).message },
              "routing failed; the webhook goes to the inbound queue to be tried again",
            );
            failed.push(stored);
          }
        }),
      );
      await stream.markRouted(routed);
      await handToInboundQueue(failed);
    } finally {
      clearInterval(keeper);
    }
  }

  /**
   * Adds webhooks to the inbound queue (job id: the receipt id), then marks them routed here.
   * An entry that is not a webhook is set aside instead: ingest wrote it, so it is a bug.
   */
  async function handToInboundQueue(webhooks: StoredWebhook[]): Promise<void> {
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
      await deps.inbound.addBulk(
        readable.map(({ webhook }) => {
          const { receipt, payload } = webhook as InboundJob;
          return { name: receipt.source, data: { receipt, payload }, opts: { jobId: receipt.id } };
        }),
      );
    }
    await stream.markRouted(readable.map(({ streamId }) => streamId));
  }

  async function readLoop(): Promise<void> {
    let failures = 0;
    let count = readCount;
    while (!closed) {
      try {
        const batch = await stream.read(deps.blocking, count, readBlockMs);
        if (batch.length > 0) {
          const averageBytes = batch.reduce((sum, stored) => sum + stored.entry.length, 0) / batch.length;
          count = Math.max(1, Math.min(readCount, Math.floor(readBytes / Math.max(1, averageBytes))));
          await routeAll(batch);
        }
        failures = 0;
      } catch (error) {
        if (closed) break;
        // The stream or its group is gone (Redis lost its data): made again, then read at once.
        if (
          (error as Error).message?.startsWith("NOGROUP") &&
          (await stream.ensureGroup().then(
            () => true,
            () => false,
          ))
        )
          continue;
        warn(error as Error);
        failures += 1;
        await new Promise((resolve) => setTimeout(resolve, pauseAfterRedisFailures(failures)));
      }
    }
  }

  /** Takes over what stopped workers read and never finished, through the whole group. */
  async function sweep(): Promise<void> {
    try {
      let cursor = "0-0";
      do {
        const { stale, next } = await stream.claimStale(deps.staleAfterMs, readCount, cursor);
        if (stale.length > 0) {
          logger.warn(
            { webhooks: stale.length },
            "routing: took over webhooks a stopped worker had read; retried from the inbound queue",
          );
          await handToInboundQueue(stale);
        }
        cursor = next;
      } while (cursor !== "0-0" && !closed);
      await stream.forgetIdleConsumers(forgetConsumersAfterMs);
    } catch (error) {
      if (!closed) warn(error as Error);
    }
  }

  let sweeping: Promise<void> | undefined;
  const sweeper = setInterval(() => {
    // One sweep at a time: during an outage a sweep waits for Redis, and the next ones are skipped.
    sweeping ??= sweep().finally(() => {
      sweeping = undefined;
    });
  }, deps.sweepEveryMs);
  sweeper.unref();
  const reading = warnIfRedisOlderThan(
    minimumRedis,
    "webhooks a stopped worker had read are not taken over",
    deps.redis,
    logger,
  )
    .then(() => stream.ensureGroup())
    .catch(() => undefined) // Redis away at start: the read loop retries, and NOGROUP makes the group
    .then(readLoop);

  return {
    async close() {
      closed = true;
      clearInterval(sweeper);
      // With Redis away nothing in hand can finish, as with BullMQ's workers (closeWorker): what
      // this worker read stays pending, and another takes it over once it is stale.
      if (deps.redis.status !== "ready") {
        deps.blocking.disconnect();
        return;
      }
      // A blocked read ends within readBlockMs; what it brings is routed before the worker
      // stops, instead of waiting to be taken over after every deploy.
      const stuck = setTimeout(() => deps.blocking.disconnect(), readBlockMs + 1000);
      await reading;
      clearTimeout(stuck);
      await sweeping;
    },
  };
}
