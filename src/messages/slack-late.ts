import type { KnownBlock } from "@slack/types";
import { escapeMrkdwn, limitEscaped, mrkdwn, type SlackMessage } from "./slack.js";

/** Block Kit's limit of blocks in one message. */
const maxBlocks = 50;

/**
 * A late event's message (DeliveryContext.late): it happened before an event the channel has
 * already seen, so it says so at its top, with both times, lest a reader take its status for
 * the ticket's current one. `occurredAt` and `newerAt` are the platform's times (ISO 8601).
 */
export function markLate(message: SlackMessage, occurredAt: string | undefined, newerAt: string): SlackMessage {
  const when = occurredAt ? `happened ${slackDate(occurredAt)}, ` : "";
  const notice: KnownBlock = {
    type: "context",
    elements: [
      mrkdwn(
        `:hourglass: *Late:* this event ${when}before one already shown here (${slackDate(newerAt)}); the thread's root keeps the newer state.`,
      ),
    ],
  };
  return {
    text: limitEscaped(`Late: ${message.text}`, 3000),
    blocks: [notice, ...message.blocks].slice(0, maxBlocks),
  };
}

/** A time each reader sees in their own time zone; the ISO text where Slack cannot format it. */
function slackDate(iso: string): string {
  const seconds = Math.floor(Date.parse(iso) / 1000);
  if (!Number.isFinite(seconds)) return escapeMrkdwn(iso);
  return `<!date^${seconds}^{date_short_pretty} {time_secs}|${escapeMrkdwn(iso)}>`;
}
