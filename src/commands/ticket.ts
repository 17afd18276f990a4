import type { TicketTimeline } from "../history/history-reader.js";
import type { WebhookStory } from "../history/story.js";
import { type Command, parseOptions, UsageError } from "./command.js";
import {
  clock,
  eventsLine,
  noRouteLine,
  outcomeWhy,
  type TargetTypes,
  targetTypesOf,
  ticketOf,
} from "./events/story-lines.js";
import { withHistory } from "./events/with-history.js";
import { counted, printJson } from "./output.js";

export const ticket: Command = {
  name: "ticket",
  help: `Usage: ticket-relay ticket ID [--json] [--config FILE]

Tells what became of one ticket (or chat, or SMS customer) in one screen, from the relay's
history: the ticket and the link to its Slack thread, then each webhook about it, oldest first
and in UTC, with its event and status change ("open → pending"), and under it one line per
delivery: where it went (target and route) and how it ended (delivered, and where; retrying and
why; dead letter and why; held by a mute, the ticket's order or a pace, and until when;
dropped and why), or, when no route took it, each route's reason. The receipt id at the end
of a webhook's line is for \`ticket-relay events show RECEIPT_ID\`, its whole story.
  --json   { ticket, webhooks, slackThread }: each webhook's whole story`,
  async run(args) {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, json: { type: "boolean" } }, true);
    const [id, ...more] = positionals;
    if (id === undefined || more.length > 0) throw new UsageError("ticket takes one ticket id");
    return withHistory(values.config, async ({ history, config }) => {
      const timeline = await history.reader.ticket(id);
      if (timeline.webhooks.length === 0) {
        console.error(
          `no webhook about ticket ${id} in the history: none came, they are older than history.maxAge, or the ticket was forgotten`,
        );
        return 1;
      }
      if (values.json) printJson(timeline);
      else console.log(describeTimeline(timeline, targetTypesOf(config)));
      return 0;
    });
  },
};

/** The timelines the reader answers with are capped at this many webhooks, the newest. */
const timelineCap = 500;

function describeTimeline(timeline: TicketTimeline, types: TargetTypes): string {
  const { webhooks } = timeline;
  const first = webhooks[0]?.webhook.receivedAt ?? "";
  const last = webhooks.at(-1)?.webhook.receivedAt ?? "";
  const newest = webhooks.length >= timelineCap ? ` (the newest ${timelineCap})` : "";
  const lines = [
    `ticket ${timeline.ticket}: ${counted(webhooks.length, "webhook")}${newest}, ${clock(first)} to ${clock(last)}`,
    `Slack thread: ${timeline.slackThread ?? "none posted"}`,
    "",
  ];
  for (const story of webhooks) lines.push(...webhookLines(story, timeline.ticket, types));
  return lines.join("\n");
}

/** One webhook's line, and under it one per delivery of the ticket's events, or why none went. */
function webhookLines(story: WebhookStory, ticketId: string, types: TargetTypes): string[] {
  const { webhook } = story;
  const indexes = webhook.events.flatMap((event, index) => (ticketOf(event) === ticketId ? [index] : []));
  const events = indexes.map((index) => webhook.events[index]).filter((event) => event !== undefined);
  const again = story.duplicates > 0 ? `  ×${story.duplicates} duplicate` : "";
  const lines = [`${clock(webhook.receivedAt)}  ${eventsLine(events)}${again}  ${webhook.id}`];
  // A fallback's delivery belongs to no event (-1): it went because one of these failed.
  const deliveries = story.deliveries.filter((delivery) => delivery.event < 0 || indexes.includes(delivery.event));
  for (const delivery of deliveries) {
    lines.push(`  ${delivery.target} (${delivery.route || "fallback"}): ${outcomeWhy(delivery, types)}`);
  }
  for (const index of indexes) {
    const event = webhook.events[index];
    if (event && !story.deliveries.some((delivery) => delivery.event === index)) lines.push(`  ${noRouteLine(event)}`);
  }
  return lines;
}
