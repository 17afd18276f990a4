import type { RelayEvent } from "../events.js";
import type { Message, MessageField } from "./message.js";

const excerptLength = 280;

/**
 * The default message for an event. Event types with their own wording come first; any other
 * type still gets a useful message from the fields every event may have.
 */
export function describeEvent(event: RelayEvent): Message {
  const fields: MessageField[] = [];
  const ticket = event.ticket;
  const add = (label: string, value: string | undefined) => {
    if (value) fields.push({ label, value });
  };

  if (event.previousStatus || event.status) {
    add("Status", `${event.previousStatus ?? "?"} → ${event.status ?? "?"}`);
  }
  add("Author", ticket?.author?.name);
  add("Category", ticket?.category);
  add("Channel", ticket?.channel);
  add("Sentiment", ticket?.sentiment);
  add("Community", event.community);

  const message: Message = { title: titleOf(event), fields, event };
  const excerpt = ticket?.message && excerptOf(ticket.message);
  if (excerpt) message.excerpt = excerpt;
  if (event.link && isWebLink(event.link)) message.link = { url: event.link, label: ticketLabel(event) ?? "link" };
  return message;
}

function titleOf(event: RelayEvent): string {
  const subject = ticketLabel(event);
  if (event.type === "ticket_status_change" && subject) {
    return `${subject}: ${event.previousStatus ?? "?"} → ${event.status ?? "?"}`;
  }
  const what = humanize(event.type);
  return subject ? `${what} on ${subject}` : what;
}

/** `Ticket #4478963 "Cat is ill"`, or as much of it as the event carries. */
function ticketLabel(event: RelayEvent): string | undefined {
  if (!event.ticketId) return undefined;
  const title = event.ticket?.title;
  return title ? `Ticket #${event.ticketId} "${oneLine(title)}"` : `Ticket #${event.ticketId}`;
}

/** `ticket_status_change` → `Ticket status change`. */
function humanize(type: string): string {
  const words = type.replace(/[_.-]+/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/**
 * Only http(s) links become buttons and anchors: a `javascript:` URL in a payload stays inert,
 * and Slack rejects a whole message whose button URL it cannot accept (3000 chars at most).
 */
function isWebLink(url: string): boolean {
  return /^https?:\/\/\S+$/i.test(url) && url.length <= 3000;
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

function excerptOf(text: string): string {
  const flat = oneLine(text);
  return flat.length > excerptLength ? `${flat.slice(0, excerptLength - 1)}…` : flat;
}
