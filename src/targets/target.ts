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
}

/**
 * A small store scoped to one target and one conversation, kept in Redis by the delivery
 * pipeline (queue/conversation-state.ts) so that a target never needs a Redis client. A
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
}

/** Trying again cannot help: bad credentials, unknown channel, a 4xx that is not about load. */
export class PermanentFailure extends Error {
  override name = "PermanentFailure";
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
  constructor(
    message: string,
    readonly afterMs?: number,
  ) {
    super(message);
  }
}
