import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Config } from "../config/schema.js";
import type { RelayEvent } from "../events.js";
import { type Logger, throttledWarning } from "../log.js";
import type { EventRecorder } from "../metrics/relay-metrics.js";
import { createWorkerConnection } from "../redis/connections.js";
import type { RelayParts } from "../relay-parts.js";
import { BatchedAdd } from "./batched-add.js";
import { deliveryJobOptions, type InboundJob, inboundQueueName } from "./jobs.js";
import { openDeliveryQueue, relayKeys } from "./queues.js";
import { deliveryPolicyFor } from "./retry.js";
import { TicketOrder } from "./ticket-order.js";
import { closeWorker, hasTryLeft, refuseTryBeyondAttempts, workerSettings } from "./worker-settings.js";

const maxReportedUnknownTypes = 1000;

/**
 * Turns each stored webhook into normalized events and each (event, target) pair into its
 * own delivery job. Runs in workers, not in ingest, so ingest stays one Redis write per
 * webhook and the routing rules can change without touching what was already accepted.
 */
export function startRoutingWorker(deps: {
  /** The config the relay started with: Redis and worker settings, which a reload does not change. */
  config: Config;
  /** Sources, routes and retry policies in force now (a reload swaps them). */
  parts: () => RelayParts;
  logger: Logger;
  metrics: EventRecorder;
}): { close(): Promise<void> } {
  const { config } = deps;
  const logger = deps.logger.child({ component: "routing" });
  // Tells at shutdown whether Redis is there to finish jobs with (closeWorker).
  const redis = createWorkerConnection(config.redis);
  const deliveries = openDeliveryQueue(config.redis, redis);
  // The deliveries of webhooks routed at the same time go to Redis together (queue/batched-add.ts).
  const deliveryAdds = new BatchedAdd(deliveries);
  redis.on("error", () => undefined);
  deliveries.on("error", throttledWarning(logger, "delivery queue error"));
  const order = new TicketOrder(redis, relayKeys(config.redis.prefix));

  // A platform's new event type is routed by its raw name; say so once per process, not per
  // event. Bounded, because event types come from whoever can post to the endpoint.
  const unknownTypes = new Set<string>();
  const reportIfUnknown = (event: RelayEvent) => {
    const key = `${event.source}\u0000${event.type}`;
    if (event.known || unknownTypes.has(key)) return;
    if (unknownTypes.size >= maxReportedUnknownTypes) {
      logger.debug({ source: event.source, type: event.type }, "unknown event type; routed by its raw name");
      return;
    }
    unknownTypes.add(key);
    logger.warn({ source: event.source, type: event.type }, "unknown event type; routed by its raw name");
  };

  const worker = new Worker<InboundJob>(
    inboundQueueName,
    async (job: Job<InboundJob>) => {
      refuseTryBeyondAttempts(job);
      const { receipt, payload } = job.data;
      // One set of parts for the whole job, even if a reload swaps them meanwhile.
      const { sources, router, config: current } = deps.parts();
      const source = sources.get(receipt.source);
      if (!source) throw new UnrecoverableError(`source "${receipt.source}" is not in the config any more`);

      const events = source.normalize(payload, receipt);
      for (const event of events) reportIfUnknown(event);
      const jobs = events.flatMap((event) => {
        const routed = router.match(event);
        if (routed.length === 0)
          logger.info({ eventId: event.id, type: event.type, ticketId: event.ticketId }, "event matched no route");
        return routed.map(({ targetId, route }) => ({
          name: targetId,
          data: { event, targetId, route },
          opts: deliveryJobOptions(event.id, targetId, deliveryPolicyFor(current, targetId)),
        }));
      });
      // A retry after a crash mid-way adds the same job ids again; BullMQ skips those.
      await deliveryAdds.addAll(jobs);
      // After the add: a delivery's turn waits only for earlier ones that exist (queue/ticket-order.ts).
      await order.noteAdded(jobs);
      // Counted once routed: a job that fails mid-way and runs again is not counted twice.
      for (const event of events) deps.metrics.received(event.source, event.type);
      logger.info({ receiptId: receipt.id, events: events.length, deliveries: jobs.length }, "routed");
      return { events: events.length, deliveries: jobs.length };
    },
    {
      ...workerSettings(config, redis),
      settings: {
        // Exponential from 1 s, unless crashed workers have used up the job's tries.
        backoffStrategy: (attemptsMade, _type, _error, job) =>
          job && hasTryLeft(job) ? 1000 * 2 ** Math.max(0, attemptsMade - 1) : -1,
      },
    },
  );
  worker.on("error", throttledWarning(logger, "routing worker error"));
  worker.on("failed", (job, error) => {
    if (job)
      logger.error({ receiptId: job.data.receipt.id, attempt: job.attemptsMade, err: error.message }, "routing failed");
  });

  return {
    async close() {
      await closeWorker(worker, redis);
      await deliveries.close();
      redis.disconnect();
    },
  };
}
