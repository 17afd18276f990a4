import type { SlackTargetConfig } from "../config/schema.js";
import type { Message } from "../messages/message.js";
import { renderSlack, type SlackMessage } from "../messages/slack.js";
import { markLate } from "../messages/slack-late.js";
import { advanceSnapshot, type ConversationSnapshot, renderSlackRoot } from "../messages/slack-root.js";
import { type ConversationState, type DeliveryContext, type DeliveryReceipt, RetryLater } from "./target.js";

/** The two Web API calls a thread needs, with Slack's errors already classified. */
export interface SlackCalls {
  post(message: SlackMessage, thread?: { ts: string; broadcast: boolean }): Promise<{ channel: string; ts: string }>;
  /** False when Slack says the root is gone (`message_not_found`: someone deleted it). */
  update(channel: string, ts: string, message: SlackMessage): Promise<boolean>;
}

/**
 * How long a worker may take to post a root before another may: far longer than one post,
 * short enough that a worker that died holding the claim delays the thread only briefly.
 */
const claimForMs = 30_000;
/** A worker that lost the claim looks this often, this many times, for the winner's root. */
const lookEveryMs = 150;
const looks = 6;

type RootState = ConversationSnapshot & { ts: string; channel: string };

/**
 * One conversation, one thread: the first event's message is the root; each later event
 * updates the root to the conversation's current state (messages/slack-root.ts) and replies
 * in its thread.
 * The root's ts lives in the delivery's conversation state, shared by every worker: a claim
 * makes exactly one of them post the root while the others wait for its ts.
 */
export async function sendInThread(
  calls: SlackCalls,
  config: Pick<SlackTargetConfig, "channel" | "broadcast" | "threadTtl">,
  message: Message,
  context: DeliveryContext & { state: ConversationState },
): Promise<DeliveryReceipt> {
  const { state } = context;
  // A channel of its own per target channel: a reload that moves the target starts new threads.
  const slot = config.channel;

  for (let look = 0; look < looks; look++) {
    const root = (await state.get(slot)) as RootState | undefined;
    if (root?.ts) {
      const receipt = await reply(root);
      if (receipt) return receipt;
      continue; // the root was deleted in Slack and is forgotten: this event starts the next one
    }
    if (await state.claim(slot, claimForMs)) {
      // Between this look and the claim, another delivery may have posted the root and let go
      // of its claim: look again while holding it, or this would post a second root.
      const posted = (await state.get(slot)) as RootState | undefined;
      if (!posted?.ts) return startRoot();
      await state.release(slot);
      const receipt = await reply(posted);
      if (receipt) return receipt;
      continue;
    }
    await new Promise((resolve) => setTimeout(resolve, lookEveryMs));
  }
  // The winner has not posted yet (Slack is slow, or it died holding the claim): the queue
  // retries this delivery shortly, by when the root exists or the claim has expired.
  throw new RetryLater(`the Slack thread of ${state.conversation.key} is being started by another delivery`, 1000);

  async function startRoot(): Promise<DeliveryReceipt> {
    try {
      const snapshot = advanceSnapshot(undefined, message, state.conversation);
      // The first event's own message is the root; from the next event on it shows the state.
      const posted = await calls.post(renderReply(message, context));
      await state.set(slot, { ...snapshot, ts: posted.ts, channel: posted.channel }, config.threadTtl);
      return {
        detail: `posted to ${posted.channel} at ${posted.ts}, the root of a new thread`,
        where: { slack: { channel: posted.channel, ts: posted.ts } },
      };
    } finally {
      await state.release(slot);
    }
  }

  function reply(root: RootState): Promise<DeliveryReceipt | undefined> {
    return replyUnder(root, calls, config, message, context, true);
  }
}

/**
 * For a target with a digest (queue/delivery/digests.ts): a reply in the conversation's thread when it
 * has one, never broadcast, since the channel shows the digest; undefined when it has none.
 */
export async function replyInExistingThread(
  calls: SlackCalls,
  config: Pick<SlackTargetConfig, "channel" | "broadcast" | "threadTtl">,
  message: Message,
  context: DeliveryContext & { state: ConversationState },
): Promise<DeliveryReceipt | undefined> {
  const root = (await context.state.get(config.channel)) as RootState | undefined;
  return root?.ts ? replyUnder(root, calls, config, message, context, false) : undefined;
}

/** Updates the root, then replies under it; undefined when the root is gone. */
async function replyUnder(
  root: RootState,
  calls: SlackCalls,
  config: Pick<SlackTargetConfig, "channel" | "broadcast" | "threadTtl">,
  message: Message,
  context: DeliveryContext & { state: ConversationState },
  mayBroadcast: boolean,
): Promise<DeliveryReceipt | undefined> {
  const { state } = context;
  const slot = config.channel;
  const replies = await state.tally(slot, context.deliveryId, config.threadTtl);
  // A late event (older than one the thread already has) leaves the root's state as it is.
  const snapshot = context.late ? root : advanceSnapshot(root, message, state.conversation);
  if (!context.late) await state.set(slot, { ...snapshot }, config.threadTtl);
  if (!(await calls.update(root.channel, root.ts, renderSlackRoot(snapshot, replies)))) {
    await state.forget(slot, "ts", root.ts);
    return undefined;
  }
  const { status, previousStatus } = message.event;
  const broadcast =
    mayBroadcast &&
    !context.late &&
    !!status &&
    config.broadcast.includes(status) &&
    status !== (previousStatus ?? root.status);
  const posted = await calls.post(renderReply(message, context), { ts: root.ts, broadcast });
  return {
    detail: `posted to ${posted.channel} at ${posted.ts} in the thread of ${root.ts}`,
    where: { slack: { channel: posted.channel, ts: posted.ts, threadTs: root.ts } },
  };
}

/** An event's own message, marked as late when it is (messages/slack-late.ts). */
export function renderReply(message: Message, context: Pick<DeliveryContext, "late">): SlackMessage {
  const rendered = renderSlack(message);
  return context.late ? markLate(rendered, message.event.occurredAt, context.late.newerAt) : rendered;
}
