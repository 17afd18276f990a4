import type { KnownBlock } from "@slack/types";
import type { Conversation } from "../events.js";
import type { Message } from "./message.js";
import { buttonUrl, escapeMrkdwn, limit, limitEscaped, mrkdwn, type SlackMessage } from "./slack.js";
import { oneLine, personName } from "./words.js";

/**
 * What the root of a conversation's Slack thread shows: the conversation as it stands now,
 * built up event by event. Plain text; every field a string, as it is kept in Redis.
 */
export interface ConversationSnapshot {
  /** The header: `Ticket #4478963: Cat is ill`, or `Ticket #4478963` while no title is known. */
  title: string;
  status?: string;
  category?: string;
  assignee?: string;
  customer?: string;
  /** A quote of the words that opened the conversation, from its first event. */
  opening?: string;
  link?: string;
  /** When the conversation last changed (ISO 8601): the platform's time, else the relay's. */
  changedAt: string;
  /** The latest event's one-line title. */
  latest: string;
}

const kindNames: Record<Conversation["kind"], string> = { ticket: "Ticket #", chat: "Chat ", customer: "Customer " };

/**
 * The snapshot after one more event: what the event says wins, what it does not say is kept
 * from before. Events are taken in the order they arrive (late events are not reordered).
 */
export function advanceSnapshot(
  previous: Partial<ConversationSnapshot> | undefined,
  message: Message,
  conversation: Conversation,
): ConversationSnapshot {
  const { event } = message;
  const name = event.ticket?.title ? `: ${event.ticket.title}` : "";
  const title = name || !previous?.title ? `${kindNames[conversation.kind]}${conversation.id}${name}` : previous.title;
  const snapshot: ConversationSnapshot = {
    ...pickDefined(previous ?? {}),
    title: oneLine(title),
    changedAt: event.occurredAt ?? event.receivedAt,
    latest: message.title,
  };
  const status = event.status ?? event.ticket?.status;
  const category = event.category ?? event.ticket?.category;
  if (status) snapshot.status = oneLine(status);
  if (category) snapshot.category = oneLine(category);
  if (event.assignee) snapshot.assignee = oneLine(personName(event.assignee));
  const customer = event.customer ?? event.ticket?.author;
  if (customer && !snapshot.customer) snapshot.customer = oneLine(personName(customer));
  if (message.excerpt && !snapshot.opening) snapshot.opening = message.excerpt;
  if (message.link) snapshot.link = message.link.url;
  return snapshot;
}

function pickDefined(fields: Partial<ConversationSnapshot>): Partial<ConversationSnapshot> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => typeof value === "string"));
}

/**
 * The root message as every `chat.update` makes it: the conversation's current state. (The
 * root is first posted as its first event's own message, template and all.) `replies` counts
 * the messages in its thread.
 */
export function renderSlackRoot(snapshot: ConversationSnapshot, replies: number): SlackMessage {
  const field = (label: string, value: string) => mrkdwn(limitEscaped(`*${label}*\n${value}`, 2000));
  const fields = [];
  if (snapshot.status) fields.push(field("Status", escapeMrkdwn(snapshot.status)));
  if (snapshot.category) fields.push(field("Category", escapeMrkdwn(snapshot.category)));
  if (snapshot.customer) fields.push(field("Customer", escapeMrkdwn(snapshot.customer)));
  if (snapshot.assignee) fields.push(field("Assigned to", escapeMrkdwn(snapshot.assignee)));
  fields.push(field("Replies", String(replies)));
  fields.push(field("Last change", slackDate(snapshot.changedAt)));

  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: limit(snapshot.title, 150), emoji: false } },
    { type: "section", fields },
    ...(snapshot.opening
      ? [
          {
            type: "section" as const,
            text: mrkdwn(limitEscaped(`>${escapeMrkdwn(snapshot.opening)}`, 3000)),
          },
        ]
      : []),
    {
      type: "context",
      elements: [mrkdwn(limitEscaped(`Latest: ${escapeMrkdwn(snapshot.latest)}`, 3000))],
    },
  ];
  const url = snapshot.link && buttonUrl(snapshot.link);
  if (url) {
    blocks.push({
      type: "actions",
      elements: [{ type: "button", text: { type: "plain_text", text: "Open in the inbox" }, url }],
    });
  }
  const status = snapshot.status ? ` (${snapshot.status})` : "";
  return { text: limitEscaped(escapeMrkdwn(`${snapshot.title}${status}`), 3000), blocks };
}

/** A time each reader sees in their own time zone; the ISO text where Slack cannot format it. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeMrkdwn(iso);
  return `<!date^${seconds}^{date_short_pretty} {time}|${escapeMrkdwn(iso)}>`;
}
