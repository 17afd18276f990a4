import type { Queue } from "bullmq";
import { type Logger, throttledWarning } from "../log.js";
import { isRedisUnavailable, type RedisClient } from "../redis/connections.js";
import type { InboundJob } from "./jobs.js";
import type { WebhookRouting } from "./webhook-routing.js";
import type { StoredWebhook, WebhookStream } from "./webhook-stream.js";

/** Most webhooks one read takes: a burst is routed in a few reads, and their deliveries added together. */
const readCount = 200;
/**
 * About how many bytes of webhooks one read brings into memory: a read takes fewer webhooks
 * when they are big (the last read's average size tells), so 200 webhooks of a megabyte each
 * are not held at once.
 */
const readBytes = 4 * 1024 * 1024;
/** How long a read waits for a webhook before it looks again (and notices a close). */
const readBlockMs = 2000;
/** A stopped process's name leaves the consumer group after a day with nothing pending. */
const forgetConsumersAfterMs = 24 * 3600_000;

/**
 * Routes webhooks from the stream (queue/webhook-stream.ts) as they come, many per read. What
 * it cannot route goes to the inbound queue, where BullMQ retries it with backoff and keeps it
 * failed for a look and a replay, as every routing job was before: a webhook whose routing
 * threw (a bug, a source gone from the config), and one a stopped worker had read but not
 * finished. The second is taken over only after `staleAfterMs`, once, and never routed here
 * again: a webhook that crashes the process that routes it ends in BullMQ's count of tries.
 */
export function startStreamRouting(deps: {
  stream: WebhookStream;
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

  /** Routes a batch, hands what failed to the inbound queue, and marks the rest done. */
  async function routeAll(batch: StoredWebhook[]): Promise<void> {
    const done: string[] = [];
    const failed: StoredWebhook[] = [];
    await Promise.all(
      batch.map(async (stored) => {
        if (!stored.webhook) {
          // Ingest wrote it, so this is a bug, not a sender's mistake; it is left out.
          logger.error({ streamId: stored.streamId }, "routing: a stored webhook cannot be read; left out");
          done.push(stored.streamId);
          return;
        }
        try {
          await routing.route(stored.webhook);
          done.push(stored.streamId);
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
    done.push(...(await handOver(failed)));
    await stream.done(done);
  }

  /** Adds webhooks to the inbound queue; resolves with the stream ids of those it holds now. */
  async function handOver(webhooks: StoredWebhook[]): Promise<string[]> {
    const readable = webhooks.filter((stored) => stored.webhook);
    if (readable.length > 0) {
      await deps.inbound.addBulk(
        readable.map(({ webhook }) => {
          const { receipt, payload } = webhook as InboundJob;
          return { name: receipt.source, data: { receipt, payload }, opts: { jobId: receipt.id } };
        }),
      );
    }
    return webhooks.map((stored) => stored.streamId);
  }

  async function readLoop(): Promise<void> {
    let failures = 0;
    let count = readCount;
    while (!closed) {
      try {
        const batch = await stream.read(deps.blocking, count, readBlockMs);
        if (batch.length > 0) {
          const averageBytes = batch.reduce((sum, stored) => sum + stored.bytes, 0) / batch.length;
          count = Math.max(1, Math.min(readCount, Math.floor(readBytes / averageBytes)));
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
        await new Promise((resolve) => setTimeout(resolve, Math.min(100 * 2 ** failures, 5000)));
      }
    }
  }

  async function sweep(): Promise<void> {
    try {
      for (let round = 0; round < 10 && !closed; round++) {
        const stale = await stream.claimStale(deps.staleAfterMs, readCount);
        if (stale.length > 0) {
          logger.warn(
            { webhooks: stale.length },
            "routing: took over webhooks a stopped worker had read; retried from the inbound queue",
          );
          await stream.done(await handOver(stale));
        }
        if (stale.length < readCount) break;
      }
      await stream.forgetIdleConsumers(forgetConsumersAfterMs);
    } catch (error) {
      if (!closed) warn(error as Error);
    }
  }

  let sweeping: Promise<void> = Promise.resolve();
  const sweeper = setInterval(() => {
    sweeping = sweeping.then(sweep);
  }, deps.sweepEveryMs);
  sweeper.unref();
  const reading = stream
    .ensureGroup()
    .catch(() => undefined) // Redis away at start: the read loop retries, and NOGROUP creates it
    .then(readLoop);

  return {
    async close() {
      closed = true;
      clearInterval(sweeper);
      // Interrupts a blocked read; a batch being routed is finished first.
      deps.blocking.disconnect();
      // With Redis away nothing in hand can finish, as with BullMQ's workers (closeWorker): what
      // this worker read stays pending, and another takes it over once it is stale.
      if (deps.redis.status !== "ready") return;
      await reading;
      await sweeping;
    },
  };
}
