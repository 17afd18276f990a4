/**
 * The normalized event: the one shape every module after `sources/` speaks. A source adapter
 * turns each platform event into one of these; routing matches on it, messages describe it,
 * targets deliver it. Platform-specific detail stays reachable in `raw`.
 */
export interface RelayEvent {
  /** `<receiptId>.<index>`: unique per event and stable across retries, so it can key deliveries. */
  id: string;
  /** The source's id in the config (`sources.<id>`), which is also its endpoint `/webhooks/<id>`. */
  source: string;
  /** The adapter that parsed it: `socialboards`. */
  sourceType: string;
  /** The platform's own event name, e.g. `ticket_status_change`. */
  type: string;
  /** When the relay accepted the webhook (ISO 8601). */
  receivedAt: string;
  /** When the platform says it happened, where the payload says (ISO 8601). */
  occurredAt?: string;
  /** Socialboards `CommunityName`: the account the event belongs to. */
  community?: string;
  ticketId?: string;
  /** A link a support agent can open, e.g. Socialboards' `InboxLink`. */
  link?: string;
  ticket?: TicketSummary;
  /** For status changes: the status before and after. */
  previousStatus?: string;
  status?: string;
  /** The platform's own JSON for this one event (for Socialboards, the item of `Events`). */
  raw: unknown;
}

export interface TicketSummary {
  id: string;
  title?: string;
  status?: string;
  category?: string;
  author?: Person;
  /** The ticket's first message as plain text. */
  message?: string;
  sentiment?: string;
  /** Where the ticket came from: web, email, facebook … */
  channel?: string;
}

export interface Person {
  name?: string;
  email?: string;
}
