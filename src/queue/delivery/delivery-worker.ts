import { Worker } from "bullmq";
import type { Config } from "../../config/schema.js";
import { type Logger, throttledWarning } from "../../log.js";
import type { DeliveryRecorder } from "../../metrics/relay-metrics.js";
import { createWorkerConnection, type RedisClient } from "../../redis/connections.js";
import type { RelayParts } from "../../relay-parts.js";
import type { DeliveryReceipt } from "../../targets/target.js";
import { DisabledTargets } from "../disabled-targets.js";
import { type DeliveryJob, deliveryQueueName } from "../jobs.js";
import { Mutes } from "../mutes.js";
import { openDeliveryQueue, relayKeys } from "../queues.js";
import { deliveryPolicyFor, nextRetryDelay, retryPolicyFor } from "../retry.js";
import { closeWorker, hasTryLeft, triesIncludingThis, workerSettings } from "../worker-settings.js";
import { ConversationStates } from "./conversation-state.js";
import { deliveryLogger, deliveryPipeline, type OutcomeHistory } from "./delivery-pipeline.js";
import { DeliverySlots } from "./delivery-slots.js";
import { DeliveryTurns } from "./delivery-turn.js";
import { DigestWindows } from "./digest-windows.js";
import { Digests } from "./digests.js";
import { Fallbacks } from "./fallback.js";
import { MuteHold } from "./mute-hold.js";
import { Pacer } from "./pacing.js";
import { SentMarks } from "./sent-marks.js";
import { slotSettingsOf, TargetSlots } from "./target-slots.js";
import { TicketOrder } from "./ticket-order.js";

/**
 * Runs the delivery pipeline (queue/delivery/delivery-pipeline.ts) for every delivery job, with the
 * retry schedule of each job's target, and logs each retry once.
 */
export function startDeliveryWorker(deps: {
  /** The config the relay started with: Redis and worker settings, which a reload does not change. */
  config: Config;
  /** Targets and retry policies in force now (a reload swaps them). */
  parts: () => RelayParts;
  logger: Logger;
  metrics: DeliveryRecorder;
  /** The history's steps of each delivery, written through the connection given (history/). */
  history?: (redis: RedisClient) => OutcomeHistory;
}): {
  close(): Promise<void>;
} {
  const { config, parts } = deps;
  const logger = deps.logger.child({ component: "delivery" });
  const keys = relayKeys(config.redis.prefix);
  const redis = createWorkerConnection(config.redis);
  redis.on("error", () => undefined); // the worker's own "error" line reports the outage
  const deliveries = openDeliveryQueue(config.redis, redis);
  deliveries.on("error", () => undefined);
  const slots = new DeliverySlots(
    new TargetSlots(redis, keys),
    deliveries,
    (targetId) => slotSettingsOf(parts().config.targets[targetId], config.workers.lockDuration),
    config.workers.lockDuration,
  );
  const history = deps.history?.(redis);
  const deliverOnce = deliveryPipeline({
    target: (targetId) => parts().targets.get(targetId),
    templates: () => parts().templates,
    disabled: new DisabledTargets(redis, keys),
    sent: new SentMarks(redis, keys),
    conversations: new ConversationStates(redis, keys),
    turns: new DeliveryTurns(
      new TicketOrder(redis, keys, deliveries),
      new Pacer(redis, keys),
      (targetId) => parts().config.targets[targetId]?.dropStale ?? false,
    ),
    slots,
    mutes: new MuteHold(new Mutes(redis, keys, deliveries)),
    fallbacks: new Fallbacks(
      deliveries,
      (targetId) => parts().config.targets[targetId]?.fallback,
      (targetId) => deliveryPolicyFor(parts().config, targetId),
    ),
    digests: new Digests({
      windows: new DigestWindows(redis, keys),
      deliveries,
      settingsOf: (targetId) => parts().config.targets[targetId]?.digest,
      policyFor: (targetId) => deliveryPolicyFor(parts().config, targetId),
      logger,
    }),
    logger,
    metrics: deps.metrics,
    history,
  });
  // The delay the backoff strategy chose for a job's next try, read back by the "will retry"
  // line: the delay has jitter, so computing it a second time would log a different one.
  const plannedRetries = new Map<string, number>();

  const worker = new Worker<DeliveryJob, DeliveryReceipt>(deliveryQueueName, deliverOnce, {
    ...workerSettings(config, redis),
    settings: {
      backoffStrategy: (attemptsMade, _type, error, job) => {
        if (!job || !hasTryLeft(job)) return -1;
        const delay = nextRetryDelay(
          retryPolicyFor(parts().config, (job.data as DeliveryJob).targetId),
          attemptsMade,
          error,
        );
        plannedRetries.set(job.id ?? "", delay);
        return delay;
      },
    },
  });

  worker.on("error", throttledWarning(logger, "delivery worker error"));
  worker.on("failed", (job, error) => {
    if (!job) return;
    const retryInMs = plannedRetries.get(job.id ?? "");
    plannedRetries.delete(job.id ?? "");
    // A dead letter was reported by the pipeline; only a try that will be retried is left.
    if (retryInMs === undefined) return;
    history?.retrying(job, retryInMs);
    deliveryLogger(logger, job.data).warn(
      {
        deliveryId: job.id,
        target: job.data.targetId,
        route: job.data.route,
        attempt: triesIncludingThis(job) - 1,
        attempts: job.opts.attempts ?? 1,
        retryInMs,
        err: error,
      },
      "delivery failed; will retry",
    );
  });

  return {
    async close() {
      await closeWorker(worker, redis);
      // Slots kept for a next delivery go back now, not when their lease runs out.
      await slots.close({ giveBack: redis.status === "ready" });
      await deliveries.close();
      redis.disconnect();
    },
  };
}
