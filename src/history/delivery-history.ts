import type { Job } from "bullmq";
import { receiptIdOf } from "../events.js";
import type { OutcomeHistory } from "../queue/delivery/delivery-pipeline.js";
import type { DeliveryOutcome, Tried } from "../queue/delivery/outcome.js";
import type { DeliveryJob } from "../queue/jobs.js";
import { triesIncludingThis } from "../queue/worker-settings.js";
import type { HistoryRecorder } from "./recorder.js";
import type { DeliveryStep } from "./records.js";

/**
 * The delivery pipeline's outcomes, as steps in their webhook's history: the same value the
 * pipeline logs and counts (queue/delivery/outcome.ts), so the history tells what the logs do.
 */
export class DeliveryHistory implements OutcomeHistory {
  constructor(private readonly recorder: HistoryRecorder) {}

  settled(job: Job<DeliveryJob>, outcome: DeliveryOutcome): void {
    for (const step of stepsOf(outcome, triesIncludingThis(job))) this.#record(job, step);
  }

  retrying(job: Job<DeliveryJob>, inMs: number): void {
    this.#record(job, { kind: "retrying", next: Date.now() + inMs });
  }

  #record(job: Job<DeliveryJob>, step: DeliveryStep): void {
    const { event, targetId, route, digest } = job.data;
    // A digest's own jobs (closing a window, its message) speak for many webhooks: each event's
    // step is the `digested` of its own delivery.
    if (digest?.step === "close" || digest?.step === "send") return;
    const at = Date.now();
    void this.recorder.step(
      receiptIdOf(event),
      event.receivedAt,
      { at, d: job.id ?? "", target: targetId, route, ...step },
      { id: event.id, json: () => JSON.stringify(event) },
    );
  }
}

/** The steps an outcome is in the history: none for one that says nothing new. */
export function stepsOf(outcome: DeliveryOutcome, attempt: number): DeliveryStep[] {
  switch (outcome.kind) {
    case "sent": {
      const { tried, detail, where } = outcome;
      return [{ kind: "delivered", try: attempt, ms: tried.ms, detail, ...(where && { where }) }];
    }
    case "alreadySent":
      return [{ kind: "alreadySent", detail: outcome.detail }];
    case "digested":
      return [{ kind: "digested", detail: outcome.detail }];
    case "dropped":
      return [{ kind: "dropped", by: outcome.by, why: outcome.why }];
    case "held":
      // A mute says so on its first hold only; every other hold is a new wait.
      return outcome.quiet ? [] : [{ kind: "held", by: outcome.by, until: outcome.until, why: outcome.why }];
    case "retry":
      return [failedTry(outcome.failure, attempt, outcome.tried)];
    case "deadLetter": {
      const dead: DeliveryStep = {
        kind: "dead",
        failure: outcome.failure,
        ...(outcome.fallback && { fallback: outcome.fallback }),
      };
      return outcome.tried ? [failedTry(outcome.failure, attempt, outcome.tried), dead] : [dead];
    }
  }
}

function failedTry(failure: string, attempt: number, { ms, answer }: Tried): DeliveryStep {
  return { kind: "failed", try: attempt, ms, failure, ...(answer && { answer }) };
}
