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

/** A subject, a plain-text part for any mail client, and an HTML part with the same content. */
export function renderEmail(message: Message): EmailMessage {
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

  // Subjects are one line: a CR or LF from a payload must not start a new header.
  return { subject: message.title.replace(/[\r\n]+/g, " "), text, html };
}
