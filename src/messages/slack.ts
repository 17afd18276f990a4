import type { KnownBlock } from "@slack/types";
import type { Message } from "./message.js";

/**
 * Slack mrkdwn treats &, < and > as control characters (links, mentions such as <!channel>),
 * so text from a payload must have them escaped, or a customer could ping a whole channel.
 * https://api.slack.com/reference/surfaces/formatting#escaping
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

// Block Kit limits: header text 150 chars, section text 3000, field text 2000, 10 fields.
const limit = (text: string, max: number) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

export interface SlackMessage {
  /** The notification and fallback text: plain, escaped. */
  text: string;
  blocks: KnownBlock[];
}

export function renderSlack(message: Message): SlackMessage {
  const blocks: KnownBlock[] = [
    { type: "header", text: { type: "plain_text", text: limit(message.title, 150), emoji: false } },
  ];
  if (message.fields.length > 0) {
    blocks.push({
      type: "section",
      fields: message.fields.slice(0, 10).map((field) => ({
        type: "mrkdwn",
        text: limit(`*${escapeMrkdwn(field.label)}*\n${escapeMrkdwn(field.value)}`, 2000),
      })),
    });
  }
  if (message.excerpt) {
    blocks.push({ type: "section", text: { type: "mrkdwn", text: limit(`>${escapeMrkdwn(message.excerpt)}`, 3000) } });
  }
  if (message.link) {
    blocks.push({
      type: "actions",
      elements: [
        {
          type: "button",
          text: { type: "plain_text", text: limit(`Open ${message.link.label}`, 75) },
          url: message.link.url,
        },
      ],
    });
  }
  return { text: escapeMrkdwn(message.title), blocks };
}
