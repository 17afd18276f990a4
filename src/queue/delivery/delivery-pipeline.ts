import { type Job, UnrecoverableError } from "bullmq";
import { conversationOf, receiptIdOf } from "../../events.js";
import type { Logger } from "../../log.js";
import type { MessageTemplates } from "../../messages/templates.js";
import type { DeliveryRecorder } from "../../metrics/relay-metrics.js";
import type { DeliveryReceipt, Target } from "../../targets/target.js";
import type { DisabledTargets } from "../disabled-targets.js";
import type { DeliveryJob } from "../jobs.js";
import { triesIncludingThis } from "../worker-settings.js";
import type { ConversationStates } from "./conversation-state.js";
import { deliveryMessage } from "./delivery-message.js";
import type { DeliverySlots } from "./delivery-slots.js";
import type { DeliveryTurns } from "./delivery-turn.js";
import { type Digests, sendDelivery } from "./digests.js";
import { judgeFailure } from "./failure-verdict.js";
import type { Fallbacks } from "./fallback.js";
import type { MuteHold } from "./mute-hold.js";
import type { SentMarks } from "./sent-marks.js";

export interface PipelineDeps {
  /** The target by id, as the config in force now has it. */
  target: (targetId: string) => Target | undefined;
  /** The message templates, as the config in force now has them. */
  templates: () => MessageTemplates;
  disabled: DisabledTargets;
  sent: SentMarks;
  /** Each target's state per conversation, handed to `send` as `context.state`. */
  conversations?: ConversationStates;
  /** When each delivery goes: after its conversation's earlier events, at its target's pace. */
  turns?: DeliveryTurns;
  /** At most `concurrency` sends to one target at once, across workers (queue/delivery/delivery-slots.ts). */
  slots: DeliverySlots;
  /** Holds or drops deliveries to muted targets and routes (`ticket-relay mute`). */
  mutes?: MuteHold;
  fallbacks: Fallbacks;
  /** Deliveries to targets with a `digest` (queue/delivery/digests.ts). */
  digests?: Digests;
  logger: Logger;
  /** Counts each try's outcome, here where it is decided. */
  metrics: DeliveryRecorder;
}

/**
 * One try of one delivery, around `target.send`: skip what was already sent, refuse what
 * cannot be sent, then judge a failure (queue/delivery/failure-verdict.ts) as worth another try (the
 * error goes back to BullMQ, which schedules it) or a dead letter (the job fails for good,
 * its fallback is queued, and an error line says so). Targets know only their protocol.
 */
export function deliveryPipeline(deps: PipelineDeps) {
  const { target: targetById, disabled, sent, fallbacks } = deps;
  /** The end of the line: a dead letter in the failed set, replayable with `ticket-relay dlq`. */
  async function deadLetter(job: Job<DeliveryJob>, reason: string): Promise<never> {
    await deps.turns?.finish(job, false);
    const fallback = await fallbacks.queueFor(job, reason);
    deliveryLogger(deps.logger, job.data).error(
      {
        deliveryId: job.id,
        target: job.data.targetId,
        route: job.data.route,
        ticketId: job.data.event.ticketId,
        type: job.data.event.type,
        tries: triesIncludingThis(job),
        fallback,
        err: reason,
      },
      "delivery is a dead letter",
    );
    deps.metrics.deadLettered(job.data.targetId);
    throw new UnrecoverableError(reason);
  }

  return async function deliverOnce(job: Job<DeliveryJob>, token?: string): Promise<DeliveryReceipt> {
    const { event, targetId, route } = job.data;
    const logger = deliveryLogger(deps.logger, job.data);
    const deliveryId = job.id ?? "";
    const attempt = triesIncludingThis(job);
    const attempts = job.opts.attempts ?? 1;
    if (attempt > attempts) {
      return deadLetter(
        job,
        `all ${attempts} tries used: ${job.stalledCounter} ended with the worker stopping mid-way`,
      );
    }
    // Only a job that ran before can have been sent already (its worker died after the target
    // said yes): a first try skips this read.
    if (attempt > 1) {
      const sentAs = await sent.find(deliveryId);
      if (sentAs) {
        logger.info({ deliveryId, target: targetId, attempt, detail: sentAs }, "already sent; not sent again");
        await deps.turns?.finish(job, { detail: sentAs });
        return { detail: `already sent (${sentAs})` };
      }
    }
    const target = targetById(targetId);
    if (!target) return deadLetter(job, `target "${targetId}" is not in the config any more`);
    const off = await disabled.check(targetId);
    if (off) return deadLetter(job, `target ${targetId} is disabled since ${off.since}: ${off.reason}`);
    // Held in the delayed set while its target or route is muted (throws DelayedError), or dropped.
    const dropped = await deps.mutes?.check(job, token);
    if (dropped) return dropped;
    // A delivery to a target with a digest joins a window instead; the window's closing job ends here too.
    const digested = await deps.digests?.take(job, target);
    if (digested) return digested;
    // Waits (in the delayed set) for its conversation's earlier events and its target's pace.
    const turn = (await deps.turns?.take(job, token, target)) ?? {};
    if (turn.dropped) {
      logger.info({ deliveryId, target: targetId, route, detail: turn.dropped.detail }, "late event dropped");
      return turn.dropped;
    }

    // The last wait: a slot among the target's `concurrency`, held until the send is over.
    await deps.slots.take(job, token);
    let receipt: DeliveryReceipt;
    try {
      const message = deliveryMessage(job.data, deps.templates(), ({ template, reason }) =>
        logger.warn(
          { deliveryId, target: targetId, route, template, err: reason },
          "template failed; sending the default message",
        ),
      );
      // Counted every time, where the log line above is written for a template's first failure only.
      if (message.templateFailure) deps.metrics.templateFellBack(targetId, route);
      const conversation = conversationOf(event);
      const state = conversation && deps.conversations?.scopedTo(targetId, conversation);
      try {
        receipt = await sendDelivery(target, job.data, message, {
          deliveryId,
          attempt,
          route,
          event,
          state,
          late: turn.late,
        });
      } finally {
        await deps.slots.release(job);
      }
    } catch (error) {
      await deps.turns?.rateLimited(job, token, target, error);
      const verdict = judgeFailure(error, job);
      // Every failed try is kept with the job, so `dlq show` can tell the whole story.
      await job.log(`${new Date().toISOString()} try ${attempt}: ${verdict.reason}`);
      if (verdict.retry) {
        await deps.turns?.failing(job);
        deps.metrics.retried(targetId);
        throw error;
      }
      if (verdict.gone) {
        await disabled.disable(targetId, verdict.reason);
        logger.error({ target: targetId, err: verdict.reason }, "target disabled; `ticket-relay targets enable` it");
      }
      return deadLetter(job, verdict.reason);
    }
    // The sent mark goes with the end of the delivery's turn, one Redis call for both, when it has one.
    const marked = await deps.turns?.finish(job, { detail: receipt.detail });
    if (!marked) await sent.mark(deliveryId, receipt.detail);
    deps.metrics.delivered(targetId, event.receivedAt);
    logger.info(
      { deliveryId, target: targetId, route, type: event.type, attempt, detail: receipt.detail },
      "delivered",
    );
    return receipt;
  };
}

/** Every line about a delivery carries the receipt id, so `grep <receipt id>` follows one webhook. */
export function deliveryLogger(logger: Logger, job: Pick<DeliveryJob, "event">): Logger {
  return logger.child({ receiptId: receiptIdOf(job.event) });
}
