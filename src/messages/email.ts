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
  const subject = message.templated?.title ?? message.title;
  const templatedText = message.templated?.text;
  const { text, html } = templatedText
    ? { text: templatedText, html: htmlOfText(templatedText) }
    : defaultParts(message);
  // Subjects are one line: a CR or LF from a payload must not start a new header.
  return { subject: subject.replace(/[\r\n]+/g, " "), text, html };
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
