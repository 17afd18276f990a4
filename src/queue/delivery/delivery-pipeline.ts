import { DelayedError, type Job, UnrecoverableError } from "bullmq";
import { conversationOf, receiptIdOf } from "../../events.js";
import type { Logger } from "../../log.js";
import type { Message } from "../../messages/message.js";
import type { MessageTemplates } from "../../messages/templates.js";
import type { DeliveryRecorder } from "../../metrics/relay-metrics.js";
import type { Answer, DeliveryContext, DeliveryReceipt, Target } from "../../targets/target.js";
import type { DisabledTargets } from "../disabled-targets.js";
import type { DeliveryJob } from "../jobs.js";
import { triesIncludingThis } from "../worker-settings.js";
import type { ConversationStates } from "./conversation-state.js";
import { deliveryMessage } from "./delivery-message.js";
import type { DeliverySlots } from "./delivery-slots.js";
import type { DeliveryTurns, YourTurn } from "./delivery-turn.js";
import type { Digests } from "./digests.js";
import { judgeFailure } from "./failure-verdict.js";
import type { Fallbacks } from "./fallback.js";
import type { MuteHold } from "./mute-hold.js";
import type { DeliveryOutcome, HeldBy, Tried } from "./outcome.js";
import type { SentMarks } from "./sent-marks.js";

export interface PipelineDeps {
  /** The target by id, as the config in force now has it. */
  target: (targetId: string) => Target | undefined;
  /** The message templates, as the config in force now has them. */
  templates: () => MessageTemplates;
  disabled: DisabledTargets;
  sent: SentMarks;
  /** Each target's state per conversation, handed to `send` as `context.state`. */
  conversations: ConversationStates;
  /** When each delivery goes: after its conversation's earlier events, at its target's pace. */
  turns: DeliveryTurns;
  /** At most `concurrency` sends to one target at once, across workers (queue/delivery/delivery-slots.ts). */
  slots: DeliverySlots;
  /** Holds or drops deliveries to muted targets and routes (`ticket-relay mute`). */
  mutes: MuteHold;
  fallbacks: Fallbacks;
  /** Deliveries to targets with a `digest` (queue/delivery/digests.ts). */
  digests: Digests;
  logger: Logger;
  /** Counts each try's outcome, here where it is acted on. */
  metrics: DeliveryRecorder;
  /** Records each try's outcome in the history (history/delivery-history.ts), when it is on. */
  history?: OutcomeHistory;
}

/** Where the outcome of each try is recorded, for `ticket-relay events` (history/). */
export interface OutcomeHistory {
  settled(job: Job<DeliveryJob>, outcome: DeliveryOutcome): void;
  /** BullMQ planned the next try of a failed one in `inMs`. */
  retrying(job: Job<DeliveryJob>, inMs: number): void;
}

/**
 * One try of one delivery, as a list of stages, each of which goes on or decides the try's
 * outcome (queue/delivery/outcome.ts):
 *   tries left? → already sent? → target known and enabled? → muted? → digest? →
 *   its turn (ticket order, pace)? → a slot of its target? → send → judge a failure.
 * `settle` then acts on the outcome in one place: the log line, the metric, and what BullMQ
 * is told (done, held in the delayed set, retried with backoff, or failed for good).
 */
export function deliveryPipeline(deps: PipelineDeps) {
  const { target: targetById, disabled, sent, fallbacks, turns } = deps;

  /** The end of the line: a dead letter in the failed set, replayable with `ticket-relay dlq`. */
  async function deadLetter(job: Job<DeliveryJob>, failure: string, tried?: Tried): Promise<DeliveryOutcome> {
    await turns.done(job, false);
    return { kind: "deadLetter", failure, fallback: await fallbacks.queueFor(job, failure), ...(tried && { tried }) };
  }

  async function decide(job: Job<DeliveryJob>, token: string | undefined): Promise<DeliveryOutcome> {
    const { targetId } = job.data;
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
      const sentAs = await sent.find(job.id ?? "");
      if (sentAs) {
        await turns.done(job, sent.markOf(job.id ?? "", sentAs));
        return { kind: "alreadySent", detail: sentAs };
      }
    }
    const target = targetById(targetId);
    if (!target) return deadLetter(job, `target "${targetId}" is not in the config any more`);
    const off = await disabled.check(targetId);
    if (off) return deadLetter(job, `target ${targetId} is disabled since ${off.since}: ${off.reason}`);
    const muted = await deps.mutes.holdIfMuted(job, token);
    if (muted.kind !== "goOn") return muted;
    // A delivery to a target with a digest joins a window instead; the window's closing job ends here too.
    const digested = await deps.digests.collect(job, target);
    if (digested) return { kind: "digested", detail: digested.detail };
    const turn = await turns.waitForTurn(job, token, target);
    if (turn.kind !== "goOn") return turn;
    // The last wait: a slot among the target's `concurrency`, held until the send is over.
    const slot = await deps.slots.waitForSlot(job, token);
    if (slot.kind !== "goOn") return slot;
    let receipt: DeliveryReceipt;
    const startedAt = performance.now();
    try {
      receipt = await send(job, target, turn);
    } catch (error) {
      const answer = (error as { answer?: Answer }).answer;
      return judge(job, token, target, error, {
        ms: Math.round(performance.now() - startedAt),
        ...(answer && { answer }),
      });
    }
    const tried = { ms: Math.round(performance.now() - startedAt) };
    // The target said yes: from here on nothing is judged as its failure. The sent mark goes
    // with the end of the delivery's turn, one Redis call for both, when it has one.
    const mark = sent.markOf(job.id ?? "", receipt.detail);
    if (!(await turns.done(job, mark))) await sent.write(mark);
    return { kind: "sent", detail: receipt.detail, tried, ...(receipt.where && { where: receipt.where }) };
  }

  /** Renders the message and hands it to the target, holding a slot of the target meanwhile. */
  async function send(job: Job<DeliveryJob>, target: Target, turn: YourTurn): Promise<DeliveryReceipt> {
    const { event, targetId, route } = job.data;
    const deliveryId = job.id ?? "";
    const startedAt = Date.now();
    try {
      const message = deliveryMessage(job.data, deps.templates(), ({ template, reason }) =>
        deliveryLogger(deps.logger, job.data).warn(
          { deliveryId, target: targetId, route, template, err: reason },
          "template failed; sending the default message",
        ),
      );
      // Counted every time, where the log line above is written for a template's first failure only.
      if (message.templateFailure) deps.metrics.templateFellBack(targetId, route);
      const conversation = conversationOf(event);
      const state = conversation && deps.conversations.scopedTo(targetId, conversation);
      const context = { deliveryId, attempt: triesIncludingThis(job), route, event, state, late: turn.late };
      return await sendBy(target, job.data, message, context);
    } finally {
      await deps.slots.release(job, Date.now() - startedAt);
    }
  }

  /** A failed send: held by a rate limit, retried, or a dead letter (which may disable its target). */
  async function judge(
    job: Job<DeliveryJob>,
    token: string | undefined,
    target: Target,
    error: unknown,
    tried: Tried,
  ): Promise<DeliveryOutcome> {
    const { targetId } = job.data;
    const rateLimited = await turns.rateLimited(job, token, target, error);
    if (rateLimited) return rateLimited;
    const verdict = judgeFailure(error, job);
    // Every failed try is kept with the job, so `dlq show` can tell the whole story.
    await job.log(`${new Date().toISOString()} try ${triesIncludingThis(job)}: ${verdict.reason}`);
    if (verdict.retry) {
      await turns.failing(job);
      return { kind: "retry", failure: verdict.reason, error, tried };
    }
    if (verdict.gone) {
      await disabled.disable(targetId, verdict.reason);
      deliveryLogger(deps.logger, job.data).error(
        { target: targetId, err: verdict.reason },
        "target disabled; `ticket-relay targets enable` it",
      );
    }
    return deadLetter(job, verdict.reason, tried);
  }

  /** Acts on a try's outcome: its log line, its metric, its step in the history, and what BullMQ is told. */
  function settle(job: Job<DeliveryJob>, outcome: DeliveryOutcome): DeliveryReceipt {
    const { event, targetId, route } = job.data;
    deps.history?.settled(job, outcome);
    const logger = deliveryLogger(deps.logger, job.data);
    const deliveryId = job.id ?? "";
    const attempt = triesIncludingThis(job);
    switch (outcome.kind) {
      case "sent":
        deps.metrics.delivered(targetId, event.receivedAt);
        logger.info(
          { deliveryId, target: targetId, route, type: event.type, attempt, detail: outcome.detail },
          "delivered",
        );
        return { detail: outcome.detail };
      case "alreadySent":
        logger.info({ deliveryId, target: targetId, attempt, detail: outcome.detail }, "already sent; not sent again");
        return { detail: `already sent (${outcome.detail})` };
      case "digested":
        return { detail: outcome.detail };
      case "dropped": {
        const fields = { deliveryId, target: targetId, route, type: event.type, ticketId: event.ticketId };
        if (outcome.by === "mute") logger.info({ ...fields, ...outcome.details }, "delivery dropped: muted");
        else logger.info({ deliveryId, target: targetId, route, detail: outcome.why }, "late event dropped");
        return { detail: outcome.why };
      }
      case "held":
        if (!outcome.quiet) {
          const fields = { deliveryId, target: targetId, route, type: event.type, ticketId: event.ticketId };
          const line = heldLines[outcome.by];
          logger[line.level]({ ...fields, why: outcome.why, ...outcome.details }, line.message);
        }
        // BullMQ leaves a job that moved itself to the delayed set as it is.
        throw new DelayedError();
      case "retry":
        deps.metrics.retried(targetId);
        // BullMQ schedules the next try with the target's backoff; the worker logs "will retry".
        throw outcome.error;
      case "deadLetter":
        logger.error(
          {
            deliveryId,
            target: targetId,
            route,
            ticketId: event.ticketId,
            type: event.type,
            tries: attempt,
            fallback: outcome.fallback,
            err: outcome.failure,
          },
          "delivery is a dead letter",
        );
        deps.metrics.deadLettered(targetId);
        throw new UnrecoverableError(outcome.failure);
    }
  }

  return async function deliverOnce(job: Job<DeliveryJob>, token?: string): Promise<DeliveryReceipt> {
    return settle(job, await decide(job, token));
  };
}

/** The line a held delivery's log gets, by what holds it. */
const heldLines: Record<HeldBy, { level: "info" | "debug"; message: string }> = {
  mute: { level: "info", message: "delivery held: muted" },
  order: { level: "debug", message: "waits for an earlier event" },
  pace: { level: "debug", message: "waits for its target's pace" },
  rateLimit: { level: "info", message: "rate limited; the pace moves back" },
  slot: { level: "debug", message: "waits for a slot of its target" },
};

/**
 * How a delivery is handed to its target: a digest's thread reply only into a thread that
 * exists (never a new root, never in the channel), anything else as the target sends it.
 */
async function sendBy(
  target: Target,
  data: DeliveryJob,
  message: Message,
  context: DeliveryContext,
): Promise<DeliveryReceipt> {
  if (data.digest?.step !== "thread") return target.send(message, context);
  const receipt = await target.replyInThread?.(message, context);
  return receipt ?? { detail: "no thread to reply in: shown in the digest only" };
}

/** Every line about a delivery carries the receipt id, so `grep <receipt id>` follows one webhook. */
export function deliveryLogger(logger: Logger, job: Pick<DeliveryJob, "event">): Logger {
  return logger.child({ receiptId: receiptIdOf(job.event) });
}
