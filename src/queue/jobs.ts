import type { JobsOptions, KeepJobs } from "bullmq";
import type { Receipt, RelayEvent } from "../events.js";
import type { DigestListing } from "../messages/message.js";
import { type DeliveryPolicy, inboundRetry } from "./retry.js";

/**
 * The two queues and the shape of their jobs. Ingest stores each webhook as one entry of the
 * webhook stream (queue/inbound/webhook-stream.ts), a single Redis write before the 200; the routing
 * worker fans it out to one `delivery` job per (event, target), so a failing target retries
 * alone and never re-sends to a healthy one. An `inbound` job is a webhook the stream lane
 * could not route (queue/inbound/stream-routing.ts), tried again with BullMQ's retries.
 */
export const inboundQueueName = "inbound";
export const deliveryQueueName = "delivery";

export interface InboundJob {
  receipt: Receipt;
  /** The webhook body as the platform sent it, parsed but not interpreted. */
  payload: unknown;
}

export interface DeliveryJob {
  event: RelayEvent;
  targetId: string;
  route: string;
  /** Set on a fallback delivery: the target that gave up on this event, and why. */
  fallbackFor?: { targetId: string; reason: string };
  /** Set on a digest's own jobs: closing a window, its message, thread replies, a lone event (queue/delivery/digests.ts). */
  digest?: DigestStep;
}

/**
 * Deterministic, so that routing that crashes halfway and runs again adds no duplicate:
 * BullMQ ignores an add whose job id already exists, or whose deduplication id it still
 * remembers. The target is part of the id because one event becomes one job per target.
 * (BullMQ forbids `:` in custom ids.)
 */
export function deliveryJobId(eventId: string, targetId: string): string {
  return `${eventId}.${targetId}`;
}

/**
 * What Redis keeps, and for how long (docs/configuration.md, "What Redis keeps"). Redis memory
 * is the relay's disk, so nothing is kept without a bound:
 * - a finished job is removed at once, payload and all; its id alone is remembered (a small
 *   deduplication key) for `rememberDoneFor`, so that routing a webhook again never sends twice;
 * - a delivery that gave up is a dead letter, kept with its payload to be looked into and
 *   replayed for `deadLetters.keep`, at most `deadLetters.max` of them;
 * - an inbound job (a webhook the stream lane could not route: a bug, or a worker that stopped
 *   mid-way) that failed for good is kept for `keepFailedRouting`.
 */
export const rememberDoneForMs = 24 * 60 * 60 * 1000;
export const keepFailedRouting: KeepJobs = { age: 14 * 24 * 3600, count: 10_000 };

/** Routing fails only when Redis does mid-way, or on a bug: a few tries, then the failed set. */
export const inboundJobOptions: JobsOptions = {
  attempts: inboundRetry.attempts,
  // The routing worker's backoff strategy: the inbound schedule (queue/retry.ts).
  backoff: { type: "relay" },
  removeOnComplete: true,
  removeOnFail: keepFailedRouting,
};

export function deliveryJobOptions(eventId: string, targetId: string, policy: DeliveryPolicy): JobsOptions {
  const jobId = deliveryJobId(eventId, targetId);
  return {
    jobId,
    attempts: policy.attempts,
    // The delivery worker's own backoff strategy (queue/retry.ts) computes each delay.
    backoff: { type: "relay" },
    deduplication: { id: jobId, ttl: rememberDoneForMs },
    removeOnComplete: true,
    removeOnFail: { age: Math.ceil(policy.deadLetters.keep / 1000), count: policy.deadLetters.max },
  };
}

/**
 * What a delivery job is to a digest (DeliveryJob `digest`): the job that closes a window when
 * it ends, the one message of a window of two or more events, a thread reply for one of them,
 * or the event of a window it was alone in. A job with none of these, to a target with a
 * `digest`, joins a window.
 */
export type DigestStep =
  | { step: "close"; groupKey: string; windowId: string }
  | { step: "send"; listing: DigestListing }
  | { step: "thread" }
  | { step: "alone" };
