import type { z } from "zod";
import { type Person, type Receipt, type RelayEvent, safeEventType, type TicketSummary } from "../../events.js";
import { text } from "../lenient.js";
import * as payloads from "./payloads.js";

type Envelope = z.output<typeof payloads.envelope>;
/** Fills in what one kind of item says; `event` already holds the common fields. */
type Normalizer = (item: unknown, event: RelayEvent) => void;

const ticketCreated: Normalizer = (item, event) => {
  const { Ticket } = payloads.ticketEvent.parse(item);
  applyTicket(event, Ticket);
};

const statusChanged: Normalizer = (item, event) => {
  const { Ticket, PreviousTicketStatus } = payloads.statusChange.parse(item);
  applyTicket(event, Ticket);
  if (PreviousTicketStatus) event.previousStatus = PreviousTicketStatus;
};

const tagsChanged: Normalizer = (item, event) => {
  const { Ticket, PreviousTicketTags } = payloads.tagsChange.parse(item);
  applyTicket(event, Ticket);
  if (!PreviousTicketTags) return;
  const before = tagNames(PreviousTicketTags);
  const now = event.tags ?? [];
  event.tagsAdded = now.filter((tag) => !before.includes(tag));
  event.tagsRemoved = before.filter((tag) => !now.includes(tag));
};

const categoryChanged: Normalizer = (item, event) => {
  const { Ticket, PreviousTicketCategoryId } = payloads.categoryChange.parse(item);
  applyTicket(event, Ticket);
  // Socialboards sends only the previous category's id, not its name.
  if (PreviousTicketCategoryId) event.previousCategory = PreviousTicketCategoryId;
};

const replyEvent: Normalizer = (item, event) => {
  const { Ticket, ReplyId, Reply } = payloads.replyEvent.parse(item);
  applyTicket(event, Ticket);
  event.ticketId ??= Reply?.TicketId;
  event.message = defined({ kind: "reply" as const, id: ReplyId ?? Reply?.Id, text: Reply?.Message });
  setPerson(event, "author", Reply?.Author);
  if (Reply?.CreationTime) event.occurredAt = Reply.CreationTime;
};

const noteEvent: Normalizer = (item, event) => {
  const { Ticket, NoteId, Note } = payloads.noteEvent.parse(item);
  applyTicket(event, Ticket);
  event.message = defined({ kind: "note" as const, id: NoteId ?? Note?.Id, text: Note?.Message });
  setPerson(event, "author", Note?.Author);
  if (Note?.CreationTime) event.occurredAt = Note.CreationTime;
};

const conversationEvent =
  (closed?: boolean): Normalizer =>
  (item, event) => {
    const { ConversationId, Conversation, Status, EventTime } = payloads.conversationEvent.parse(item);
    applyChat(event, ConversationId ?? Conversation?.Id, EventTime);
    setPerson(event, "customer", Conversation?.Author);
    const status = Status ?? (closed || Conversation?.IsClosed ? "closed" : undefined);
    if (status) event.status = status;
  };

const messageAdded: Normalizer = (item, event) => {
  const { ConversationId, Message, EventTime } = payloads.messageAdded.parse(item);
  applyChat(event, ConversationId, EventTime);
  event.message = defined({ kind: "chat" as const, id: Message?.Id, text: Message?.Message });
  setPerson(event, "author", Message?.Author);
  if (Message?.Author?.Status === "client") setPerson(event, "customer", Message.Author);
};

const takeoverChanged: Normalizer = (item, event) => {
  const { ConversationId, Takeover, EventTime } = payloads.takeoverChange.parse(item);
  applyChat(event, ConversationId, EventTime);
  const toBot = Takeover?.IsAssignedToBot;
  if (toBot !== undefined) event.state = toBot ? "bot" : "agent";
};

/** Every EventType the relay knows, each with the normalizer for its item shape. */
const normalizers: Record<string, Normalizer> = {
  ticket_creation: ticketCreated,
  ticket_status_change: statusChanged,
  ticket_tags_change: tagsChanged,
  ticket_category_change: categoryChanged,
  reply_creation: replyEvent,
  reply_update: replyEvent,
  reply_deletion: replyEvent,
  note_creation: noteEvent,
  note_update: noteEvent,
  note_deletion: noteEvent,
  conversation_created: conversationEvent(),
  conversation_status_changed: conversationEvent(),
  conversation_closed: conversationEvent(true),
  conversation_message_added: messageAdded,
  conversation_takeover_state_changed: takeoverChanged,
};
export const knownEventTypes = Object.keys(normalizers);

/**
 * One item of `Events` as a normalized event. An EventType not in the table is still an
 * event: routed by its name (made safe, see `safeEventType`) with whatever ticket fields it
 * carries, and marked unknown.
 */
export function normalizeItem(envelope: Envelope, index: number, receipt: Receipt): RelayEvent {
  const item = envelope.Events[index];
  const known = Object.hasOwn(normalizers, envelope.EventType);
  const event: RelayEvent = {
    id: `${receipt.id}.${index}`,
    source: receipt.source,
    sourceType: "socialboards",
    type: safeEventType(envelope.EventType),
    known,
    receivedAt: receipt.receivedAt,
    community: envelope.CommunityName,
    raw: item,
  };
  const common = payloads.ticketEvent.parse(item);
  if (common.TicketId) event.ticketId = common.TicketId;
  if (common.InboxLink) event.link = common.InboxLink;
  // Looked up only when known (own keys): an EventType of `constructor` must not find Object.
  ((known && normalizers[envelope.EventType]) || ticketCreated)(item, event);
  // The envelope's TicketId names the ticket only when the payload holds one event.
  const envelopeTicketId = text.parse(envelope.TicketId);
  if (!event.ticketId && envelope.Events.length === 1 && envelopeTicketId) event.ticketId = envelopeTicketId;
  return event;
}

function applyTicket(event: RelayEvent, ticket: payloads.Ticket | undefined): void {
  if (!ticket) return;
  event.ticketId ??= ticket.Id;
  const summary: TicketSummary = defined({
    id: event.ticketId ?? "",
    title: ticket.Title,
    status: ticket.Status,
    category: ticket.Category?.Name,
    message: ticket.Message,
    sentiment: ticket.Sentiment,
    channel: ticket.Source,
    author: person(ticket.Author),
  });
  event.ticket = summary;
  if (ticket.Status) event.status = ticket.Status;
  if (ticket.Category?.Name) event.category = ticket.Category.Name;
  if (ticket.Tags) event.tags = tagNames(ticket.Tags);
  // The ticket's author wrote its first message; who changed it now, Socialboards does not say.
  if (ticket.Author?.Status !== "team") setPerson(event, "customer", ticket.Author);
}

function applyChat(event: RelayEvent, conversationId: string | undefined, eventTime: string | undefined): void {
  if (conversationId) event.conversationId = conversationId;
  if (eventTime) event.occurredAt = eventTime;
}

function setPerson(event: RelayEvent, role: "author" | "customer", user: payloads.User | undefined): void {
  const found = person(user);
  if (found) event[role] = found;
}

function person(user: payloads.User | undefined): Person | undefined {
  if (!user || (!user.Name && !user.Email)) return undefined;
  return defined({ role: roleOf(user), id: user.Id, name: user.Name, email: user.Email });
}

/** Socialboards' `Status` is `client` for the customer and `team` (or another) for agents. */
function roleOf(user: payloads.User): Person["role"] {
  if (user.IsBot) return "bot";
  if (user.Status === undefined) return undefined;
  return user.Status === "client" ? "customer" : "agent";
}

function tagNames(tags: readonly ({ Name?: string | undefined } | undefined)[]): string[] {
  return tags.flatMap((tag) => (tag?.Name ? [tag.Name] : []));
}

/** The object without its undefined fields, so events serialize (and compare) cleanly. */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as T;
}
