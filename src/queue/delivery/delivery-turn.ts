import { DelayedError, type Job } from "bullmq";
import { conversationOf } from "../../events.js";
import type { Logger } from "../../log.js";
import { type DeliveryReceipt, RateLimited, type Target } from "../../targets/target.js";
import type { DeliveryJob } from "../jobs.js";
import type { Pacer } from "./pacing.js";
import { lookAgainMs, type TicketOrder } from "./ticket-order.js";

/** What a delivery may do once it is its turn. */
export interface Turn {
  /** The event is older than one already delivered for its conversation (DeliveryContext.late). */
  late?: { newerAt: string };
  /** The event is late and its target drops late events: this receipt instead of a send. */
  dropped?: DeliveryReceipt;
}

/**
 * The delivery pipeline's step before and around `target.send` that decides when a delivery
 * goes: after the earlier events of its conversation (queue/delivery/ticket-order.ts), and at its
 * target's pace (queue/delivery/pacing.ts). A delivery that must wait is moved to BullMQ's delayed set
 * (`moveToDelayed`, then `DelayedError`): it holds no worker while it waits, and the wait uses
 * none of its tries.
 */
export class DeliveryTurns {
  constructor(
    private readonly order: TicketOrder,
    private readonly pacer: Pacer,
    /** The target's `dropStale`, as the config in force now has it. */
    private readonly dropsStale: (targetId: string) => boolean,
    private readonly logger: Logger,
  ) {}

  /** Resolves when the delivery may go now; otherwise defers the job (throws DelayedError). */
  async take(job: Job<DeliveryJob>, token: string | undefined, target: Target): Promise<Turn> {
    const { event, targetId } = job.data;
    const conversation = conversationOf(event);
    let late: Turn["late"];
    if (conversation) {
      const turn = await this.order.take(job, conversation);
      if (turn.kind === "wait") {
        this.logger.debug({ deliveryId: job.id, target: targetId, after: turn.earlier }, "waits for an earlier event");
        // The earlier one wakes it as soon as it finishes (TicketOrder.finish); the look is a safety net.
        return defer(job, token, lookAgainMs(turn.rank));
      }
      if (turn.kind === "late") {
        late = { newerAt: new Date(turn.newerAt).toISOString() };
        if (this.dropsStale(targetId)) {
          await this.order.finish(job, conversation, false);
          return {
            dropped: {
              detail: `dropped (dropStale): happened at ${event.occurredAt}, before ${late.newerAt}, already delivered`,
            },
          };
        }
      }
    }
    const pace = target.paceOf?.(event);
    if (pace && pace.everyMs > 0) {
      const waitMs = await this.pacer.take(pace, job.id ?? "");
      if (waitMs > 0) return defer(job, token, waitMs);
    }
    return late ? { late } : {};
  }

  /**
   * After a failed send: a rate limit on a paced target moves the pace back and defers the
   * delivery (throws DelayedError), without counting a try. Anything else returns.
   */
  async rateLimited(job: Job<DeliveryJob>, token: string | undefined, target: Target, error: unknown): Promise<void> {
    if (!(error instanceof RateLimited)) return;
    const pace = target.paceOf?.(job.data.event);
    if (!pace || pace.everyMs <= 0) return;
    const waitMs = await this.pacer.rateLimited(pace, job.id ?? "", error.afterMs);
    this.logger.info(
      { deliveryId: job.id, target: job.data.targetId, pace: pace.key, retryInMs: waitMs },
      "rate limited; the pace moves back",
    );
    return defer(job, token, waitMs);
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
  async finish(job: Job<DeliveryJob>, delivered: { detail: string } | false): Promise<boolean> {
    const conversation = conversationOf(job.data.event);
    if (!conversation) return false;
    await this.order.finish(job, conversation, delivered);
    return true;
  }
}

async function defer(job: Job<DeliveryJob>, token: string | undefined, waitMs: number): Promise<never> {
  // A worker always hands its processor the job's lock token; without one, nothing can move the job.
  if (!token) throw new Error("a delivery cannot wait for its turn without its job's lock token");
  await job.moveToDelayed(Date.now() + waitMs, token);
  throw new DelayedError();
}
