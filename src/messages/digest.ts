import type { KnownBlock } from "@slack/types";
import type { RelayEvent } from "../events.js";
import { describeEvent } from "./describe.js";
import { type EmailMessage, escapeHtml } from "./email.js";
import type { DigestListing, Message } from "./message.js";
import {
  buttonUrl,
  escapeMrkdwn,
  escapeMrkdwnControls,
  limit,
  limitEscaped,
  mrkdwn,
  type SlackMessage,
} from "./slack.js";
import { humanize } from "./words.js";

/** A line's own text is cut here; a long title says what it needs in its first 200 characters. */
const lineTitleLength = 200;
/** A line with its link longer than this (a very long URL) is listed without the link. */
const maxLinkedLineLength = 600;
/** Block Kit allows 50 blocks; header, notice, "and N more" and footer take four. */
const maxSections = 40;
const maxSectionLength = 3000;

/** The message a digest sends: `message.digest` tells each target's renderer to list it. */
export function digestMessage(listing: DigestListing, event: RelayEvent, footer: string, notice?: string): Message {
  return {
    title: digestTitle(listing),
    fields: notice ? [{ label: "Sent here because", value: notice }] : [],
    event,
    digest: listing,
    footer,
  };
}

/**
 * `400 tickets closed in the last 2 minutes`: what the events share, said once. A status all
 * of them changed to, else their one event type, else only how many events.
 */
export function digestTitle(listing: DigestListing): string {
  const events = listing.entries.map((entry) => entry.event);
  const { count } = listing;
  const noun = events.every((event) => event.ticketId)
    ? "tickets"
    : events.every((event) => event.conversationId)
      ? "chats"
      : "events";
  const only = <T>(values: T[]) => (new Set(values).size === 1 ? values[0] : undefined);
  const type = only(events.map((event) => event.type));
  const status = only(events.map((event) => event.status));
  const what =
    type && status && /status/.test(type) && noun !== "events"
      ? `${count} ${noun} ${status}`
      : type
        ? `${count} ${humanize(type).toLowerCase()} events`
        : `${count} events`;
  return `${what} in the last ${durationWords(listing.windowMs)}`;
}

/** `2 minutes`, `1 hour`, `1.5 seconds`: a window as a reader says it. */
export function durationWords(ms: number): string {
  const units: [number, string][] = [
    [3_600_000, "hour"],
    [60_000, "minute"],
    [1000, "second"],
  ];
  for (const [size, name] of units) {
    if (ms >= size && ms % size === 0) return plural(ms / size, name);
  }
  return ms >= 1000 ? plural(Math.round(ms / 100) / 10, "second") : plural(ms, "millisecond");
}

function plural(amount: number, unit: string): string {
  return `${amount} ${unit}${amount === 1 ? "" : "s"}`;
}

interface Line {
  title: string;
  url?: string;
}

function linesOf(listing: DigestListing): Line[] {
  return listing.entries.map(({ event }) => {
    const line: Line = { title: limit(describeEvent(event).title, lineTitleLength) };
    const url = event.link && buttonUrl(event.link);
    if (url) line.url = url;
    return line;
  });
}

const moreLine = (more: number) => `… and ${more} more`;

/**
 * Slack: a header, then the events as lines of mrkdwn, each its ticket's link where the URL
 * leaves room, packed into sections within Block Kit's limits (3,000 characters a section, 50
 * blocks). Lines that find no room are counted in the last line with the events never listed.
 */
export function renderSlackDigest(message: Message, listing: DigestListing): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: limit(message.title, 150), emoji: false } },
  ];
  for (const field of message.fields) {
    blocks.push({
      type: "section",
      text: mrkdwn(limitEscaped(`*${escapeMrkdwn(field.label)}* ${escapeMrkdwn(field.value)}`, 3000)),
    });
  }
  const sections: string[] = [];
  let shown = 0;
  for (const line of linesOf(listing)) {
    const plain = `• ${escapeMrkdwn(line.title)}`;
    const linked = line.url ? `• <${escapeMrkdwnControls(line.url)}|${escapeMrkdwn(line.title)}>` : plain;
    const text = linked.length <= maxLinkedLineLength ? linked : plain;
    const last = sections.length - 1;
    if (last >= 0 && (sections[last] as string).length + 1 + text.length <= maxSectionLength) {
      sections[last] = `${sections[last]}\n${text}`;
    } else if (sections.length < maxSections) {
      sections.push(text);
    } else {
      break;
    }
    shown += 1;
  }
  for (const text of sections) blocks.push({ type: "section", text: mrkdwn(text) });
  const more = listing.count - shown;
  if (more > 0) blocks.push({ type: "context", elements: [mrkdwn(moreLine(more))] });
  if (message.footer) {
    blocks.push({
      type: "context",
      elements: [{ type: "plain_text", text: limit(message.footer, 2000), emoji: false }],
    });
  }
  return { text: limitEscaped(escapeMrkdwn(message.title), 3000), blocks };
}

/** Email: the title as the subject, then one line per event with its link below it. */
export function renderEmailDigest(message: Message, listing: DigestListing): EmailMessage {
  const lines = linesOf(listing);
  const more = listing.count - lines.length;
  const notice = message.fields.map((field) => `${field.label} ${field.value}`);
  const text = [
    message.title,
    "",
    ...notice.flatMap((line) => [line, ""]),
    ...lines.flatMap((line) => [`- ${line.title}`, ...(line.url ? [`  ${line.url}`] : [])]),
    ...(more > 0 ? ["", moreLine(more)] : []),
    ...(message.footer ? ["", "-- ", message.footer] : []),
  ].join("\n");
  const items = lines
    .map((line) =>
      line.url
        ? `<li><a href="${escapeHtml(line.url)}">${escapeHtml(line.title)}</a></li>`
        : `<li>${escapeHtml(line.title)}</li>`,
    )
    .join("\n");
  const html = [
    `<h2>${escapeHtml(message.title)}</h2>`,
    ...notice.map((line) => `<p>${escapeHtml(line)}</p>`),
    `<ul>\n${items}\n</ul>`,
    more > 0 ? `<p>${escapeHtml(moreLine(more))}</p>` : "",
    message.footer ? `<p style="color:#6b7280;font-size:12px">${escapeHtml(message.footer)}</p>` : "",
  ].join("\n");
  return { subject: message.title.replace(/[\r\n]+/g, " "), text, html };
}

/** HTTP: the digest as JSON, every listed event as the relay read it (docs/targets/http.md). */
export function digestJson(listing: DigestListing): Record<string, unknown> {
  return {
    count: listing.count,
    listed: listing.entries.length,
    group: listing.group,
    windowMs: listing.windowMs,
    openedAt: listing.openedAt,
    closedAt: listing.closedAt,
    events: listing.entries.map(({ event, route }) => {
      const { raw: _raw, ...rest } = event;
      return { ...rest, route };
    }),
  };
}
