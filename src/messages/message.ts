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
}

export interface MessageField {
  label: string;
  value: string;
}

/** What one event type adds to the common message: its title, and fields only it has. */
export type Describer = (event: RelayEvent) => { title: string; fields?: MessageField[] };
