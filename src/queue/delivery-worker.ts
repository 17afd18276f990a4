import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import { describeEvent } from "../messages/describe.js";
import { type DeliveryReceipt, PermanentFailure, type Target } from "../targets/target.js";
import { type DeliveryJob, deliveryQueueName } from "./jobs.js";
import { nextRetryDelay, retryPolicyFor } from "./retry.js";
import { hasTryLeft, refuseTryBeyondAttempts, triesIncludingThis, workerSettings } from "./worker-settings.js";

/**
 * Sends each delivery job to its target. Retry, backoff and the log of every attempt live
 * here, once, for every kind of target.
 */
export function startDeliveryWorker(deps: { config: Config; targets: ReadonlyMap<string, Target>; logger: Logger }): {
  close(): Promise<void>;
} {
  const { config, targets } = deps;
  const logger = deps.logger.child({ component: "delivery" });
  // The delay the backoff strategy chose for a job's next try, read back by the "failed" log
  // line: the delay has jitter, so computing it a second time would log a different one.
  const plannedRetries = new Map<string, number>();

  const worker = new Worker<DeliveryJob, DeliveryReceipt>(
    deliveryQueueName,
    async (job: Job<DeliveryJob>) => {
      refuseTryBeyondAttempts(job);
      const { event, targetId, route } = job.data;
      const target = targets.get(targetId);
      if (!target) throw new UnrecoverableError(`target "${targetId}" is not in the config any more`);
      const attempt = triesIncludingThis(job);
      try {
        const receipt = await target.send(describeEvent(event), { deliveryId: job.id ?? "", attempt, route, event });
        logger.info(
          { deliveryId: job.id, target: targetId, route, type: event.type, attempt, detail: receipt.detail },
          "delivered",
        );
        return receipt;
      } catch (error) {
        // BullMQ's way of saying "do not retry": the job goes straight to the failed set.
        if (error instanceof PermanentFailure) throw new UnrecoverableError(error.message);
        throw error;
      }
    },
    {
      ...workerSettings(config),
      settings: {
        backoffStrategy: (attemptsMade, _type, error, job) => {
          if (!job || !hasTryLeft(job)) return -1;
          const delay = nextRetryDelay(retryPolicyFor(config, (job.data as DeliveryJob).targetId), attemptsMade, error);
          plannedRetries.set(job.id ?? "", delay);
          return delay;
        },
      },
    },
  );

  worker.on("error", (error) => logger.warn({ err: error.message }, "delivery worker error"));
  worker.on("failed", (job, error) => {
    if (!job) return;
    const retryInMs = plannedRetries.get(job.id ?? "");
    plannedRetries.delete(job.id ?? "");
    const fields = {
      deliveryId: job.id,
      target: job.data.targetId,
      route: job.data.route,
      attempt: triesIncludingThis(job) - 1,
      attempts: job.opts.attempts ?? 1,
      err: error.message,
    };
    if (retryInMs === undefined) logger.error(fields, "delivery failed for good; kept in the failed set");
    else logger.warn({ ...fields, retryInMs }, "delivery failed; will retry");
  });

  return {
    async close() {
      await worker.close();
    },
  };
}
