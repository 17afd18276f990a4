import type { Conversation, RelayEvent } from "../events.js";
import type { Message } from "../messages/message.js";

/**
 * The one interface every target implements. A target knows its protocol and nothing else:
 * retries, backoff, dead letters and logs wrap every target once, in `queue/`.
 */
export interface Target {
  readonly id: string;
  readonly type: string;
  /** Deliver one message. Throw PermanentFailure when trying again cannot help, RetryLater when it can. */
  send(message: Message, context: DeliveryContext): Promise<DeliveryReceipt>;
  /**
   * For a target with a `digest` that keeps threads (queue/delivery/digests.ts): deliver the message
   * only as a reply in its conversation's thread, never in the channel; undefined when the
   * conversation has no thread yet. The digest is the channel's view, the thread the ticket's.
   */
  replyInThread?(message: Message, context: DeliveryContext): Promise<DeliveryReceipt | undefined>;
  /**
   * The pace this event's delivery keeps, when the far side limits how often one may post to
   * one place (Slack: about once a second per channel). Deliveries under one `key` are spaced
   * `everyMs` apart across every worker (queue/delivery/pacing.ts); undefined: no pace.
   */
  paceOf?(event: RelayEvent): Pace | undefined;
  /** Release connections (SMTP pool, sockets) on shutdown. */
  close?(): Promise<void>;
}

export interface DeliveryContext {
  /** Stable across retries of this delivery: `<event id>.<target id>`. */
  deliveryId: string;
  /** 1 for the first try. */
  attempt: number;
  route: string;
  event: RelayEvent;
  /**
   * What this target keeps about the event's conversation (a Slack thread's root), shared by
   * every worker; undefined when the event belongs to no conversation (`conversationOf`).
   */
  state?: ConversationState;
  /**
   * Set when the platform's time says this event happened before one already delivered for
   * its conversation to this target (a `pending` that arrives after `closed`): it must not
   * overwrite the newer state. `newerAt` is the platform's time of the newest one delivered.
   */
  late?: { newerAt: string };
}

export interface Pace {
  /** What shares one pace: a Slack channel. */
  key: string;
  everyMs: number;
}

/**
 * A small store scoped to one target and one conversation, kept in Redis by the delivery
 * pipeline (queue/delivery/conversation-state.ts) so that a target never needs a Redis client. A
 * `slot` separates what one target keeps apart within a conversation (a Slack channel).
 */
export interface ConversationState {
  readonly conversation: Conversation;
  /** The fields stored in this slot, or undefined when there are none (never set, expired, forgotten). */
  get(slot: string): Promise<Record<string, string> | undefined>;
  /**
   * True for exactly one caller until `forMs` passes or `release` is called: whoever gets it
   * creates the slot's state (a thread's root); the others wait for it, or retry later.
   */
  claim(slot: string, forMs: number): Promise<boolean>;
  release(slot: string): Promise<void>;
  /** Merges the fields into the slot and keeps it for `ttlMs` from now. */
  set(slot: string, fields: Record<string, string>, ttlMs: number): Promise<void>;
  /** Adds `id` to the slot's tally, once however often it is called, and returns how many it holds. */
  tally(slot: string, id: string, ttlMs: number): Promise<number>;
  /** Forgets the slot (and its tally), only if its `field` still is `value`: a newer state stays. */
  forget(slot: string, field: string, value: string): Promise<void>;
}

export interface DeliveryReceipt {
  /** What the far side said, for the log: a Slack ts, an SMTP message id, an HTTP status. */
  detail: string;
  /** Where the message is now, for the history: a Slack message and its link, an email, an HTTP answer. */
  where?: Where;
}

/** Where a delivered message is: a Slack message (and its link), an email, an HTTP answer. */
export interface Where {
  slack?: { channel: string; ts: string; threadTs?: string; permalink?: string };
  messageId?: string;
  status?: number;
}

/** What the far side answered a failed try, for the history: the same few fields for every target. */
export interface Answer {
  /** An HTTP status, or an SMTP reply code. */
  status?: number;
  /** A Slack error (`not_in_channel`) or a network error code (`ECONNREFUSED`). */
  code?: string;
  /** The start of the answer's body: at most `maxExcerptBytes`. */
  excerpt?: string;
}

/** A failure's answer excerpt is cut to this many bytes: it is kept with every failed try. */
export const maxExcerptBytes = 1024;

/** An answer whose excerpt is cut to `maxExcerptBytes` (a cut character is dropped whole). */
export function answerOf(answer: Answer): Answer {
  const { excerpt } = answer;
  if (excerpt === undefined || Buffer.byteLength(excerpt) <= maxExcerptBytes) return answer;
  const cut = Buffer.from(excerpt)
    .subarray(0, maxExcerptBytes)
    .toString("utf8")
    .replace(/\uFFFD$/u, "");
  return { ...answer, excerpt: cut };
}

/** Trying again cannot help: bad credentials, unknown channel, a 4xx that is not about load. */
export class PermanentFailure extends Error {
  override name = "PermanentFailure";
  /** What the far side answered, when it did. */
  answer?: Answer;
}

/** The failure, with what the far side answered: for the history's record of the try. */
export function answered<E extends PermanentFailure | RetryLater>(error: E, answer: Answer): E {
  error.answer = answerOf(answer);
  return error;
}

/**
 * The receiver says this endpoint no longer exists (HTTP 410 Gone): no delivery to it can
 * succeed until the config changes. The delivery pipeline, not the target, acts on it: it
 * disables the target when it sees this, instead of failing each of its deliveries in turn.
 */
export class TargetGone extends PermanentFailure {
  override name = "TargetGone";
}

/** Worth another try, after `afterMs` when the far side said how long to wait (Retry-After). */
export class RetryLater extends Error {
  override name = "RetryLater";
  /** What the far side answered, when it did. */
  answer?: Answer;
  constructor(
    message: string,
    readonly afterMs?: number,
  ) {
    super(message);
  }
}

/**
 * The far side's rate limit (HTTP 429 with Retry-After): not a failure of this delivery but of
 * the pace. For a target with a pace (`paceOf`), the pipeline moves the pace back by `afterMs`
 * and tries again then, without counting a try; otherwise it is a RetryLater like any other.
 */
export class RateLimited extends RetryLater {
  override name = "RateLimited";
  constructor(
    message: string,
    override readonly afterMs: number,
  ) {
    super(message, afterMs);
  }
}
