import type { RelayEvent } from "../events.js";

/**
 * What a support agent should read about one event, before any target's formatting: the
 * targets turn it into Slack blocks, an email or a JSON body, each escaping for its own syntax.
 * All strings here are plain text, straight from the payload, never pre-escaped.
 */
export interface Message {
  /** One line that says what happened: `Ticket #4478963 "Cat is ill": open → pending`. */
  title: string;
  /** Details below the title, in reading order. */
  fields: MessageField[];
  /** A short quote of the customer's or agent's words. */
  excerpt?: string;
  /** Where to open the ticket. */
  link?: { url: string; label: string };
  event: RelayEvent;
  /**
   * What the delivery's template made (messages/templates.ts), when its route or target has
   * one: the target shows it instead of the default title and body. The one exception to
   * "plain text": `text` is in the target's own syntax (Slack mrkdwn, plain text for email),
   * every value in it already escaped for that syntax. `title` is plain text.
   */
  templated?: { title?: string; text?: string };
  /**
   * Set when the delivery's template failed and this is the default message in its place
   * (messages/templates.ts): a value the pipeline counts on every delivery, while the log
   * names each template's first failure only.
   */
  templateFailure?: TemplateFailure;
  /**
   * A last small line that says where the message came from (`via ticket-relay · route
   * pending-to-support`): set per delivery (queue/delivery/delivery-message.ts), so renderers stay pure.
   */
  footer?: string;
  /**
   * Set on a digest (messages/digest.ts): the events of one window, which the renderer lists
   * in place of one event's details. `event` is then the digest's own, naming no ticket.
   */
  digest?: DigestListing;
}

export interface MessageField {
  label: string;
  value: string;
  /** A detail for a full view (email, HTTP JSON) that a glance view (Slack fields) leaves out. */
  detail?: boolean;
}

/** What one event type adds to the common message: its title, and fields only it has. */
export type Describer = (event: RelayEvent) => { title: string; fields?: MessageField[] };

/**
 * One digest: the events a target's digest window took for one group (queue/delivery/digests.ts), as
 * one message. Only the first `max` events are kept one by one; `count` says how many there
 * were in all.
 */
export interface DigestListing {
  /** Every event the window took, listed or not. */
  count: number;
  /** The first of them, in the order they joined, at most the digest's `max`. */
  entries: DigestEntry[];
  /** The values of the digest's `groupBy` fields these events share, e.g. `{ type: "ticket_status_change", status: "closed" }`. */
  group: Record<string, string>;
  /** The digest's `window`, in milliseconds. */
  windowMs: number;
  /** When the first event joined and when the window closed (ISO 8601). */
  openedAt: string;
  closedAt: string;
}

export interface DigestEntry {
  /** The event without the platform's payload (`raw` is null), which a digest never shows. */
  event: RelayEvent;
  route: string;
}

/** A template that failed at delivery: its config key, and why. */
export interface TemplateFailure {
  template: string;
  reason: string;
}
