import { renderEmailDigest, renderSlackDigest } from "./digest.js";
import { type EmailMessage, renderEmail } from "./email.js";
import type { Message } from "./message.js";
import { renderSlack, type SlackMessage } from "./slack.js";

/**
 * What a Slack target posts for a message: the digest's list when it is one, else the one
 * event's message. Targets and `dlq show` render through here, so a message looks the same in both.
 */
export function renderSlackMessage(message: Message): SlackMessage {
  return message.digest ? renderSlackDigest(message, message.digest) : renderSlack(message);
}

/** What an email target sends for a message, as `renderSlackMessage` for Slack. */
export function renderEmailMessage(message: Message): EmailMessage {
  return message.digest ? renderEmailDigest(message, message.digest) : renderEmail(message);
}
