import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import { describeEvent } from "../messages/describe.js";
import { type DeliveryReceipt, PermanentFailure, type Target } from "../targets/target.js";
import { type DeliveryJob, deliveryQueueName } from "./jobs.js";
import { workerConnectionOptions } from "./redis.js";
import { nextRetryDelay, retryPolicyFor } from "./retry.js";

/**
 * Sends each delivery job to its target. Retry, backoff and the log of every attempt live
 * here, once, for every kind of target.
 */
export function startDeliveryWorker(deps: { config: Config; targets: ReadonlyMap<string, Target>; logger: Logger }): {
  close(): Promise<void>;
} {
  const { config, targets } = deps;
  const logger = deps.logger.child({ component: "delivery" });

  const worker = new Worker<DeliveryJob, DeliveryReceipt>(
    deliveryQueueName,
    async (job: Job<DeliveryJob>) => {
      const { event, targetId, route } = job.data;
      const target = targets.get(targetId);
      if (!target) throw new UnrecoverableError(`target "${targetId}" is not in the config any more`);
      const attempt = job.attemptsMade + 1;
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
      connection: workerConnectionOptions(config.redis.url),
      prefix: config.redis.prefix,
      concurrency: config.workers.concurrency,
      settings: {
        backoffStrategy: (attemptsMade, _type, error, job) => {
          const targetId = (job?.data as DeliveryJob | undefined)?.targetId ?? "";
          return nextRetryDelay(retryPolicyFor(config, targetId), attemptsMade, error);
        },
      },
    },
  );

  worker.on("error", (error) => logger.warn({ err: error.message }, "delivery worker error"));
  worker.on("failed", (job, error) => {
    if (!job) return;
    const attempts = job.opts.attempts ?? 1;
    const final = error instanceof UnrecoverableError || job.attemptsMade >= attempts;
    const fields = {
      deliveryId: job.id,
      target: job.data.targetId,
      route: job.data.route,
      attempt: job.attemptsMade,
      attempts,
      err: error.message,
    };
    if (final) logger.error(fields, "delivery failed for good; kept in the failed set");
    else {
      const retryInMs = nextRetryDelay(retryPolicyFor(config, job.data.targetId), job.attemptsMade, error);
      logger.warn({ ...fields, retryInMs }, "delivery failed; will retry");
    }
  });

  return {
    async close() {
      await worker.close();
    },
  };
}
