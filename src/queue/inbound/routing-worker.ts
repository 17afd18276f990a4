import { type Job, Worker } from "bullmq";
import type { Config } from "../../config/schema.js";
import { type Logger, throttledWarning } from "../../log.js";
import type { EventRecorder } from "../../metrics/relay-metrics.js";
import { createWorkerConnection, type RedisClient } from "../../redis/connections.js";
import type { RelayParts } from "../../relay-parts.js";
import { type InboundJob, inboundQueueName } from "../jobs.js";
import { openDeliveryQueue, openInboundQueue, relayKeys } from "../queues.js";
import { nextInboundRetryDelay } from "../retry.js";
import { closeWorker, hasTryLeft, refuseTryBeyondAttempts, workerSettings } from "../worker-settings.js";
import { StreamRouting } from "./stream-routing.js";
import { type RoutingHistory, WebhookRouting } from "./webhook-routing.js";
import { WebhookStreamConsumer } from "./webhook-stream-consumer.js";

/**
 * Turns stored webhooks into delivery jobs, in workers, not in ingest, so ingest stays one
 * Redis write per webhook and the routing rules can change without touching what was already
 * accepted. Two lanes: the webhook stream, which nearly every webhook takes (queue/inbound/stream-routing.ts),
 * and the inbound queue, a BullMQ queue for the few that failed there, with retries and a
 * failed set to look into.
 */
export function startRoutingWorker(deps: {
  /** The config the relay started with: Redis and worker settings, which a reload does not change. */
  config: Config;
  /** Sources, routes and retry policies in force now (a reload swaps them). */
  parts: () => RelayParts;
  logger: Logger;
  metrics: EventRecorder;
  /** The history's record of each routed webhook, written through the connection given (history/). */
  history?: (redis: RedisClient) => RoutingHistory;
}): { close(): Promise<void> } {
  const { config } = deps;
  const logger = deps.logger.child({ component: "routing" });
  const keys = relayKeys(config.redis.prefix);
  // Tells at shutdown whether Redis is there to finish jobs with (closeWorker).
  const redis = createWorkerConnection(config.redis);
  const blocking = createWorkerConnection(config.redis);
  redis.on("error", () => undefined);
  blocking.on("error", () => undefined);
  const deliveries = openDeliveryQueue(config.redis, redis);
  deliveries.on("error", throttledWarning(logger, "delivery queue error"));
  const inbound = openInboundQueue(config.redis.prefix, redis);
  inbound.on("error", throttledWarning(logger, "inbound queue error"));
  const history = deps.history?.(redis);
  const routing = new WebhookRouting({
    parts: deps.parts,
    redis,
    keys,
    deliveries,
    logger,
    metrics: deps.metrics,
    history,
  });

  const streamRouting = new StreamRouting({
    stream: new WebhookStreamConsumer(redis, keys),
    redis,
    blocking,
    routing,
    inbound,
    staleAfterMs: config.workers.lockDuration,
    sweepEveryMs: config.workers.stalledInterval,
    logger,
  });
  void streamRouting.run();

  const worker = new Worker<InboundJob>(
    inboundQueueName,
    async (job: Job<InboundJob>) => {
      refuseTryBeyondAttempts(job);
      return routing.route(job.data);
    },
    {
      ...workerSettings(config, redis),
      settings: {
        // The inbound schedule (queue/retry.ts), unless crashed workers have used up the job's tries.
        backoffStrategy: (attemptsMade, _type, _error, job) =>
          job && hasTryLeft(job) ? nextInboundRetryDelay(attemptsMade) : -1,
      },
    },
  );
  worker.on("error", throttledWarning(logger, "routing worker error"));
  worker.on("failed", (job, error) => {
    if (job) logger.error({ receiptId: job.data.receipt.id, attempt: job.attemptsMade, err: error }, "routing failed");
  });

  return {
    async close() {
      await streamRouting.close();
      await closeWorker(worker, redis);
      await inbound.close();
      await deliveries.close();
      blocking.disconnect();
      redis.disconnect();
    },
  };
}
