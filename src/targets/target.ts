import type { RelayEvent } from "../events.js";
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
