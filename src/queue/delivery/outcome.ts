import type { Job } from "bullmq";
import type { Answer, Where } from "../../targets/target.js";
import type { DeliveryJob } from "../jobs.js";

/**
 * What one try of a delivery came to, decided by one stage of the pipeline
 * (queue/delivery/delivery-pipeline.ts) and acted on in one place (`settle` there): the worker
 * logs it, counts it and tells BullMQ from this value alone, and a history can record it.
 */
export type DeliveryOutcome =
  /** The target took it; `detail` is what it said (a Slack ts, a Message-ID, an HTTP status). */
  | { kind: "sent"; detail: string; where?: Where; tried: Tried }
  /** A run of the job before this one was taken by the target already (its worker died after). */
  | { kind: "alreadySent"; detail: string }
  /** Parked in the delayed set until `until` (ms) at the latest, using none of its tries. */
  | ({ kind: "held" } & Held)
  /** Joined a digest window, or closed one: sent with others, or by the window's own jobs. */
  | { kind: "digested"; detail: string }
  /** Not sent, on purpose: a late event its target drops, or a mute that drops. */
  | { kind: "dropped"; by: "stale" | "mute"; why: string; details?: Record<string, string> }
  /** Failed, and worth another try: BullMQ schedules it with the target's retry policy. */
  | { kind: "retry"; failure: string; error: unknown; tried: Tried }
  /**
   * Failed for good: kept as a dead letter, and sent to `fallback` when the target has one;
   * `tried` when a try of the target failed, not when it was given up before one.
   */
  | { kind: "deadLetter"; failure: string; fallback?: string; tried?: Tried };

/** One try of the target: how long it took, and what the far side answered a failure. */
export interface Tried {
  ms: number;
  answer?: Answer;
}

/** Why and until when a delivery is held. */
export interface Held {
  by: HeldBy;
  /** When it looks again by itself (ms); most are woken before. */
  until: number;
  why: string;
  /** Not logged: it was held for the same reason before, and said so then. */
  quiet?: boolean;
  /** More fields for its log line (which mute, until when). */
  details?: Record<string, string>;
}

/** What a held delivery waits for. */
export type HeldBy =
  /** A mute on its target or route (`ticket-relay mute`). */
  | "mute"
  /** An earlier delivery of its ticket to the same target. */
  | "order"
  /** Its target's pace (a Slack channel's one post a second). */
  | "pace"
  /** The far side said "too many" (a 429 on a paced target): the pace moved back. */
  | "rateLimit"
  /** A slot among its target's `concurrency`. */
  | "slot";

/** A stage's answer: go on to the next stage, or the outcome of this try. */
export type StageAnswer = { kind: "goOn" } | DeliveryOutcome;

export const goOn: StageAnswer = { kind: "goOn" };

/**
 * Parks a job in BullMQ's delayed set until `until`: the move every "held" outcome makes. A
 * worker always hands its processor the job's lock token; without one, nothing can move the job.
 */
export async function park(job: Job<DeliveryJob>, token: string | undefined, held: Held): Promise<DeliveryOutcome> {
  if (!token) throw new Error(`a delivery cannot be held (${held.by}) without its job's lock token`);
  await job.moveToDelayed(held.until, token);
  return { kind: "held", ...held };
}
