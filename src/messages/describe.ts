import type { RelayEvent } from "../events.js";
import type { Describer, Message, MessageField } from "./message.js";
import { socialboardsDescribers } from "./socialboards.js";
import { sonarDescribers } from "./sonar.js";
import { humanize, oneLine, onTicket, personName, personWithRole, roleLabel, tagDelta } from "./words.js";

/** Describers by source type, then event type. A new source adds one file and one line here. */
const describers: Record<string, Record<string, Describer>> = {
  socialboards: socialboardsDescribers,
  sonar: sonarDescribers,
};

/** Every event type with a describer of its own, for checking templates against a sample of each. */
export function describedEventTypes(): { sourceType: string; type: string }[] {
  return Object.entries(describers).flatMap(([sourceType, byType]) =>
    Object.keys(byType).map((type) => ({ sourceType, type })),
  );
}

const excerptLength = 280;

/**
 * The default message for an event: a title from the describer of its type, then the details
 * any event may carry, an excerpt of its words and a link. An event type without a describer
 * (a platform's new event, a generic source) still gets a useful message from those details.
 */
export function describeEvent(event: RelayEvent): Message {
  const describe = describers[event.sourceType]?.[event.type];
  const { title, fields = [] } = describe && event.known ? describe(event) : describeAny(event);
  const message: Message = { title: oneLine(title), fields: [...fields, ...commonFields(event)], event };

  const words = event.message?.text ?? (event.message ? undefined : event.ticket?.message);
  if (words) message.excerpt = excerptOf(words);
  if (event.link && isWebLink(event.link)) {
    message.link = { url: event.link, label: event.ticketId ? `ticket #${event.ticketId}` : "in the inbox" };
  }
  return message;
}

function describeAny(event: RelayEvent): ReturnType<Describer> {
  return { title: `${humanize(event.type)}${onTicket(event)}` };
}

/** The details below the title, in the order an agent scans them; each only when present. */
function commonFields(event: RelayEvent): MessageField[] {
  const fields: MessageField[] = [];
  const add = (label: string, value: string | undefined) => {
    if (value) fields.push({ label, value: oneLine(value) });
  };
  if (event.previousStatus || event.status) {
    add("Status", event.previousStatus ? `${event.previousStatus} → ${event.status ?? "?"}` : event.status);
  }
  // Each person under the role the platform gives them: on a status change the ticket's author
  // is the customer who opened it, not who changed it (which Socialboards does not say).
  const author = event.author;
  if (author) add(roleLabel(author) ?? "Author", personName(author));
  if (event.customer && personName(event.customer) !== personName(author)) add("Customer", personName(event.customer));
  const opener = event.ticket?.author;
  if (opener && !author && personName(opener) !== personName(event.customer)) {
    add("Opened by", personWithRole(opener));
  }
  add("Phone", event.customer?.phone);
  if (event.assignee) add("Assigned to", personName(event.assignee));
  add("Category", event.category ?? event.ticket?.category);
  if (event.tagsAdded?.length || event.tagsRemoved?.length)
    add("Tag changes", tagDelta(event.tagsAdded, event.tagsRemoved));
  if (event.tags?.length) add("Tags", event.tags.join(", "));
  add("State", event.state);
  // Not "Channel": in a Slack message that reads as a Slack channel.
  add("Came in by", event.ticket?.channel);
  // Details for a full view (email, HTTP JSON), not for a glance: Slack leaves them out.
  if (event.ticket?.sentiment)
    fields.push({ label: "Sentiment", value: oneLine(event.ticket.sentiment), detail: true });
  if (event.community) fields.push({ label: "Community", value: oneLine(event.community), detail: true });
  return fields;
}

/**
 * Only http(s) links become buttons and anchors: a `javascript:` URL in a payload stays inert,
 * and Slack rejects a whole message whose button URL it cannot accept (3000 chars at most).
 */
function isWebLink(url: string): boolean {
  return /^https?:\/\/\S+$/i.test(url) && url.length <= 3000;
}

function excerptOf(text: string): string {
  const flat = oneLine(text);
  return flat.length > excerptLength ? `${flat.slice(0, excerptLength - 1)}…` : flat;
}
