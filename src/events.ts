/**
 * The normalized event: the one shape every module after `sources/` speaks. A source adapter
 * turns each platform event into one of these; routing matches on it, messages describe it,
 * targets deliver it. Platform-specific detail stays reachable in `raw`. Every field but the
 * first few is optional: an adapter fills in what the payload carries and nothing else.
 * docs/events.md lists which field each source fills for each event type.
 */
export interface RelayEvent {
  /** `<receiptId>.<index>`: unique per event and stable across retries, so it can key deliveries. */
  id: string;
  /** The source's id in the config (`sources.<id>`), which is also its endpoint `/webhooks/<id>`. */
  source: string;
  /** The adapter that parsed it: `socialboards`, `sonar`, `generic`. */
  sourceType: string;
  /**
   * The platform's own event name, e.g. `ticket_status_change`, `customer_unsubscribed`, as
   * `safeEventType` makes it: what routes match, logs show and targets receive.
   */
  type: string;
  /**
   * False when the adapter does not know this event type: it is still routed, by its name,
   * and described from whatever common fields it has. A platform's new event is never an error.
   */
  known: boolean;
  /** When the relay accepted the webhook (ISO 8601). */
  receivedAt: string;
  /** When the platform says it happened, where the payload says. */
  occurredAt?: string;
  /** The account the event belongs to (Socialboards `CommunityName`). */
  community?: string;
  ticketId?: string;
  /** A link a support agent can open: Socialboards' `InboxLink`, Sonar's thread link. */
  link?: string;
  ticket?: TicketSummary;
  /** Status before and after, for status changes (ticket or chat). */
  previousStatus?: string;
  status?: string;
  /** The category's name after a change; before it, only what the payload gives (an id). */
  category?: string;
  previousCategory?: string;
  /** Tags now, and what a tag event added or removed. */
  tags?: string[];
  tagsAdded?: string[];
  tagsRemoved?: string[];
  /** Who did what this event reports: a reply's or note's author, a message's sender. */
  author?: Person;
  /** The words the event carries: a reply, a note, a chat or SMS message. */
  message?: EventMessage;
  /** The customer the event is about. */
  customer?: Person;
  /** The team member the customer or conversation is assigned to. */
  assignee?: Person;
  conversationId?: string;
  /** A state other than a ticket status: Sonar's customer state, a chat's bot/agent takeover. */
  state?: string;
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
  /**
   * Who this person is on the platform: the `customer` who wrote in, an `agent` of the team, or
   * a `bot`. Socialboards: `IsBot`, else `Status` `client` (customer) or any other (agent).
   * Sonar: the customer, and its users (agents). Undefined where the payload does not say.
   */
  role?: "customer" | "agent" | "bot";
  id?: string;
  name?: string;
  email?: string;
  phone?: string;
}

export interface EventMessage {
  kind: "reply" | "note" | "chat" | "sms";
  id?: string;
  /** Plain text, straight from the payload. */
  text?: string;
  /** For SMS: from the customer (`inbound`) or to them (`outbound`). */
  direction?: "inbound" | "outbound";
}

/** What an event type name may look like; anything else is made to look like this. */
export const eventTypePattern = /^[A-Za-z0-9_.:-]{1,100}$/;
const disallowed = /[^A-Za-z0-9_.:-]/gu;

/**
 * The name the relay uses for an event type the sender chose. Whoever can post to an endpoint
 * picks it, and it is kept in memory, logged, matched and sent on, so it must be short and
 * plain: each disallowed character (a whole emoji is one) becomes `_`, the result is cut to 100
 * characters, and a missing or empty name is `unknown`. Every source's `normalize` calls this;
 * the payload in `raw` keeps the name as it was sent.
 */
export function safeEventType(name: string | undefined): string {
  if (!name) return "unknown";
  if (eventTypePattern.test(name)) return name;
  // Each code point becomes one character, so 200 code units (at least 100 code points) are
  // all the name that can survive the cut: no pass over a name as long as the body limit.
  return name.slice(0, 200).replace(disallowed, "_").slice(0, 100);
}

/** The relay's record of one accepted webhook; its id keys every event and delivery made from it. */
export interface Receipt {
  id: string;
  source: string;
  receivedAt: string;
}

/** The receipt id an event's id starts with: what the logs carry to follow one webhook. */
export function receiptIdOf(event: Pick<RelayEvent, "id">): string {
  const end = event.id.lastIndexOf(".");
  return end < 0 ? event.id : event.id.slice(0, end);
}

/** The conversation an event belongs to: one ticket, one chat, or one SMS customer. */
export interface Conversation {
  /** Stable across every event of that conversation: `<source>/<community>/<kind>/<id>`. */
  key: string;
  kind: "ticket" | "chat" | "customer";
  id: string;
}

/**
 * Which conversation an event belongs to, so that targets can keep one thread per ticket
 * (Slack `thread_ts`, email `References`). A ticket's events by its ticket id; chat events by
 * the conversation id; Sonar's by the customer. Undefined for an event that names none: it
 * stands alone. The source and community are part of the key, since ids are only unique there.
 */
export function conversationOf(event: RelayEvent): Conversation | undefined {
  const scope = `${event.source}/${event.community ?? "-"}`;
  const of = (kind: Conversation["kind"], id: string) => ({ key: `${scope}/${kind}/${id}`, kind, id });
  if (event.ticketId) return of("ticket", event.ticketId);
  if (event.conversationId) return of("chat", event.conversationId);
  if (event.sourceType === "sonar" && event.customer?.id) return of("customer", event.customer.id);
  return undefined;
}
