import type { Queue } from "bullmq";
import type { QueueDepth, QueueSnapshot } from "../metrics/relay-metrics.js";
import type { RedisClient } from "../redis/connector.js";
import { WebhookStream } from "./inbound/webhook-stream.js";
import { inboundQueueName } from "./jobs.js";
import { openDeliveryQueue, openInboundQueue, type QueueSettings, relayKeys } from "./queues.js";

/**
 * How full the relay's queues are, read for a metrics scrape: counts per state, and how long
 * the oldest waiting job has waited (a backlog that grows old means no worker takes jobs).
 * "inbound" counts every webhook not routed yet: those in the webhook stream (waiting, or
 * active while a worker routes them) and those in the inbound queue (queue/inbound/routing-worker.ts).
 * On a connection that fails fast, so a scrape with Redis away does not wait for a reconnect.
 */
export class QueueDepths {
  readonly #queues: Queue[];
  readonly #delivery: Queue;
  readonly #stream: WebhookStream;

  constructor(
    private readonly redis: RedisClient,
    settings: QueueSettings,
  ) {
    this.#delivery = openDeliveryQueue(settings, redis);
    this.#queues = [openInboundQueue(settings.prefix, redis), this.#delivery];
    for (const queue of this.#queues) queue.on("error", () => undefined); // redis_up says it
    this.#stream = new WebhookStream(redis, relayKeys(settings.prefix));
  }

  async read(): Promise<QueueSnapshot> {
    const [stream, ...queues] = await Promise.all([
      this.#stream.depth(),
      ...this.#queues.map((queue) => this.#depthOf(queue)),
    ]);
    for (const depth of queues) {
      if (depth.queue !== inboundQueueName) continue;
      depth.waiting += stream.waiting;
      depth.active += stream.routing;
      depth.oldestWaitingSeconds = Math.max(depth.oldestWaitingSeconds, stream.oldestSeconds);
    }
    const deadLetters = queues.find((depth) => depth.queue === this.#delivery.name)?.failed ?? 0;
    return { queues, deadLetters };
  }

  async #depthOf(queue: Queue): Promise<QueueDepth> {
    const [counts, oldestWaitingSeconds] = await Promise.all([
      queue.getJobCounts("wait", "active", "delayed", "failed"),
      this.#oldestWaitingSeconds(queue),
    ]);
    return {
      queue: queue.name,
      waiting: counts.wait ?? 0,
      active: counts.active ?? 0,
      delayed: counts.delayed ?? 0,
      failed: counts.failed ?? 0,
      oldestWaitingSeconds,
    };
  }

  /** Only the oldest job's id and timestamp: its payload may be a megabyte. */
  async #oldestWaitingSeconds(queue: Queue): Promise<number> {
    // Workers take from the far end of the wait list: ascending order starts with the oldest.
    const [oldest] = await queue.getRanges(["wait"], 0, 0, true);
    if (oldest === undefined) return 0;
    const queuedAt = Number(await this.redis.hget(queue.toKey(oldest), "timestamp"));
    return Number.isFinite(queuedAt) && queuedAt > 0 ? Math.max(0, (Date.now() - queuedAt) / 1000) : 0;
  }

  async close(): Promise<void> {
    await Promise.all(this.#queues.map((queue) => queue.close()));
  }
}
