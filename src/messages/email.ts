import { conversationOf, type RelayEvent } from "../events.js";
import type { Message } from "./message.js";

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&#39;");
}

export interface EmailMessage {
  subject: string;
  text: string;
  html: string;
}

/**
 * A subject, a plain-text part for any mail client, and an HTML part with the same content. A
 * template's subject and text (plain text) replace the default ones; its HTML part is that
 * text, escaped, one paragraph per blank-line-separated block.
 */
export function renderEmail(message: Message): EmailMessage {
  const subject = message.templated?.title ?? threadSubject(message.event) ?? message.title;
  const templatedText = message.templated?.text;
  const parts = templatedText ? { text: templatedText, html: htmlOfText(templatedText) } : defaultParts(message);
  const { text, html } = message.footer ? withFooter(parts, message.footer) : parts;
  // Subjects are one line: a CR or LF from a payload must not start a new header, and a line or
  // paragraph separator (U+2028/2029) must not break the line a mail client shows.
  return { subject: subject.replace(/[\r\n\u2028\u2029]+/g, " "), text, html };
}

/**
 * One subject for every email about one conversation, since Gmail and Outlook thread on the
 * subject as well as on `References`: a subject that changed with each event would split the
 * thread. It names only what every event of the conversation carries, the id (a reply's payload
 * has no ticket title); what happened is the first line of the body. Undefined for an event
 * that belongs to no conversation: its subject is the event's own line.
 */
export function threadSubject(event: RelayEvent): string | undefined {
  const conversation = conversationOf(event);
  if (!conversation) return undefined;
  const noun = { ticket: "Ticket", chat: "Chat", customer: "SMS customer" }[conversation.kind];
  return `${noun} #${conversation.id}`;
}

function withFooter(parts: { text: string; html: string }, footer: string): { text: string; html: string } {
  return {
    // `-- ` is the signature separator: mail clients show what follows as a quiet footer.
    text: `${parts.text}\n\n-- \n${footer}`,
    html: `${parts.html}\n<p style="color:#6b7280;font-size:12px">${escapeHtml(footer)}</p>`,
  };
}

function htmlOfText(text: string): string {
  return text
    .split(/\n{2,}/)
    .map((paragraph) => `<p>${escapeHtml(paragraph).replace(/\n/g, "<br>\n")}</p>`)
    .join("\n");
}

function defaultParts(message: Message): { text: string; html: string } {
  const text = [
    message.title,
    "",
    ...message.fields.map((field) => `${field.label}: ${field.value}`),
    ...(message.excerpt ? ["", `> ${message.excerpt}`] : []),
    ...(message.link ? ["", `${message.link.url}`] : []),
  ].join("\n");

  const rows = message.fields
    .map((field) => `<tr><th align="left">${escapeHtml(field.label)}</th><td>${escapeHtml(field.value)}</td></tr>`)
    .join("");
  const html = [
    `<h2>${escapeHtml(message.title)}</h2>`,
    rows ? `<table cellpadding="4">${rows}</table>` : "",
    message.excerpt ? `<blockquote>${escapeHtml(message.excerpt)}</blockquote>` : "",
    message.link ? `<p><a href="${escapeHtml(message.link.url)}">Open ${escapeHtml(message.link.label)}</a></p>` : "",
  ].join("\n");
  return { text, html };
}
