import { UnrecoverableError, type Worker, type WorkerOptions } from "bullmq";
import type { Config } from "../config/schema.js";
import type { RedisClient } from "../redis/connections.js";

/**
 * BullMQ counts a worker that died mid-job ("stalled") apart from a failure, and by default
 * fails the job for good on its second stall, whatever its `attempts`. We count both alike:
 * every try uses one of the job's attempts, whether it ended in an error or in a crash. So
 * BullMQ's own stall limit is set past any `attempts` the config allows (100), and the
 * workers enforce the real one with `triesIncludingThis`.
 */
const stallLimitBeyondAnyAttempts = 100;

/**
 * Options both workers share: where Redis is, how many jobs at once, how fast a dead worker's
 * jobs move on. BullMQ opens the worker's own connections as copies of `connection` (one from
 * redis/connector.ts, so they reach a Cluster or Sentinel's primary alike) and closes them.
 */
export function workerSettings(config: Config, connection: RedisClient): WorkerOptions {
  return {
    connection,
    prefix: config.redis.prefix,
    concurrency: config.workers.concurrency,
    // A job's lock lasts lockDuration and is renewed every half of it, so a live worker never
    // loses it; a dead one's jobs are back in the queue within lockDuration + stalledInterval.
    lockDuration: config.workers.lockDuration,
    stalledInterval: config.workers.stalledInterval,
    maxStalledCount: stallLimitBeyondAnyAttempts,
  };
}

/**
 * The parts of a job these rules read. A backoff strategy is typed with BullMQ's MinimalJob,
 * which leaves `stalledCounter` out although the job it gets always has it.
 */
export interface TriedJob {
  attemptsMade: number;
  stalledCounter?: number;
  opts: { attempts?: number };
}

/** This try's number, 1 for the first: earlier failures and earlier crashes both count. */
export function triesIncludingThis(job: TriedJob): number {
  return job.attemptsMade + (job.stalledCounter ?? 0) + 1;
}

/**
 * Called first thing in a processor: a job whose tries were used up by crashed workers goes
 * to the failed set instead of being tried once more than its `attempts` allow.
 */
export function refuseTryBeyondAttempts(job: TriedJob): void {
  const attempts = job.opts.attempts ?? 1;
  if (triesIncludingThis(job) > attempts) {
    throw new UnrecoverableError(
      `all ${attempts} tries used: ${job.stalledCounter ?? 0} ended with the worker stopping mid-way (crash or kill)`,
    );
  }
}

/**
 * Whether a failed try leaves another: BullMQ's own check counts only failures, so a backoff
 * strategy returns -1 (no retry) when crashes have used up the rest.
 */
export function hasTryLeft(job: TriedJob): boolean {
  return triesIncludingThis(job) < (job.opts.attempts ?? 1);
}

/**
 * Stops a worker: it takes no new job and finishes the ones in hand. With Redis away there
 * is nothing to finish them with (marking a job done needs Redis), and BullMQ would wait for
 * Redis for ever, so the worker is closed at once; its jobs go to another worker once their
 * lock runs out. `redis` is any connection of this process to the same Redis.
 */
export async function closeWorker(worker: Worker, redis: RedisClient): Promise<void> {
  await worker.close(redis.status !== "ready");
}
