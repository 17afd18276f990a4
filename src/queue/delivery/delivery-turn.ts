import type { Job } from "bullmq";
import { conversationOf } from "../../events.js";
import { RateLimited, type Target } from "../../targets/target.js";
import type { DeliveryJob } from "../jobs.js";
import { type DeliveryOutcome, park } from "./outcome.js";
import type { Pacer } from "./pacing.js";
import type { SentMark } from "./sent-marks.js";
import { lookAgainMs, type TicketOrder } from "./ticket-order.js";

/** It is the delivery's turn: it goes now, marked late when an older event than one already delivered. */
export interface YourTurn {
  kind: "goOn";
  /** The event is older than one already delivered for its conversation (DeliveryContext.late). */
  late?: { newerAt: string };
}

/**
 * The delivery pipeline's stage before and around `target.send` that decides when a delivery
 * goes: after the earlier events of its conversation (queue/delivery/ticket-order.ts), and at its
 * target's pace (queue/delivery/pacing.ts). A delivery that must wait is parked in BullMQ's
 * delayed set (a "held" outcome): it holds no worker while it waits, and the wait uses none of
 * its tries.
 */
export class DeliveryTurns {
  constructor(
    private readonly order: TicketOrder,
    private readonly pacer: Pacer,
    /** The target's `dropStale`, as the config in force now has it. */
    private readonly dropsStale: (targetId: string) => boolean,
  ) {}

  /** Its turn, or the outcome of waiting for it: held (order, pace) or dropped (stale). */
  async waitForTurn(
    job: Job<DeliveryJob>,
    token: string | undefined,
    target: Target,
  ): Promise<YourTurn | DeliveryOutcome> {
    const { event, targetId } = job.data;
    const conversation = conversationOf(event);
    let late: YourTurn["late"];
    if (conversation) {
      const place = await this.order.askTurn(job, conversation);
      if (place.kind === "wait") {
        // The earlier one wakes it as soon as it finishes (TicketOrder.endTurn); the look is a safety net.
        return park(job, token, {
          by: "order",
          until: Date.now() + lookAgainMs(place.rank),
          why: `after ${place.earlier}`,
        });
      }
      if (place.kind === "late") {
        late = { newerAt: new Date(place.newerAt).toISOString() };
        if (this.dropsStale(targetId)) {
          await this.order.endTurn(job, conversation, false);
          return {
            kind: "dropped",
            by: "stale",
            why: `dropped (dropStale): happened at ${event.occurredAt}, before ${late.newerAt}, already delivered`,
          };
        }
      }
    }
    const pace = target.paceOf?.(event);
    if (pace && pace.everyMs > 0) {
      const waitMs = await this.pacer.askMoment(pace, job.id ?? "");
      if (waitMs > 0) return park(job, token, { by: "pace", until: Date.now() + waitMs, why: `pace of ${pace.key}` });
    }
    return late ? { kind: "goOn", late } : { kind: "goOn" };
  }

  /**
   * After a failed send: a rate limit on a paced target moves the pace back and holds the
   * delivery, without counting a try. Undefined for any other failure.
   */
  async rateLimited(
    job: Job<DeliveryJob>,
    token: string | undefined,
    target: Target,
    error: unknown,
  ): Promise<DeliveryOutcome | undefined> {
    if (!(error instanceof RateLimited)) return undefined;
    const pace = target.paceOf?.(job.data.event);
    if (!pace || pace.everyMs <= 0) return undefined;
    const waitMs = await this.pacer.rateLimited(pace, job.id ?? "", error.afterMs);
    return park(job, token, {
      by: "rateLimit",
      until: Date.now() + waitMs,
      why: `the pace of ${pace.key} moves back ${waitMs} ms`,
      details: { pace: pace.key },
    });
  }

  /** A try failed and will be retried: the later events of its conversation wait for it, within a bound. */
  async failing(job: Job<DeliveryJob>): Promise<void> {
    const conversation = conversationOf(job.data.event);
    if (conversation) await this.order.failing(job, conversation);
  }

  /**
   * The delivery is done with: delivered (with what its target said), or not (a dead letter,
   * already sent). The next one may go. True when the sent mark of a delivered one was written
   * with it; false when the delivery has no conversation, and the caller writes the mark.
   */
  async done(job: Job<DeliveryJob>, delivered: SentMark | false): Promise<boolean> {
    const conversation = conversationOf(job.data.event);
    if (!conversation) return false;
    await this.order.endTurn(job, conversation, delivered);
    return true;
  }
}
