import type { WebhookStory } from "../../history/story.js";
import { type Command, parseOptions, UsageError } from "../command.js";
import { age, counted, printJson } from "../output.js";
import {
  clock,
  clockAndAge,
  excerptOf,
  routeLine,
  statusChange,
  stepText,
  type TargetTypes,
  targetTypesOf,
  ticketOf,
} from "./story-lines.js";
import { withHistory } from "./with-history.js";

export const eventsShow: Command = {
  name: "events show",
  help: `Usage: ticket-relay events show RECEIPT_ID [--json] [--config FILE]

Tells the whole story of one webhook, by the receipt id the relay answered it with (and that
\`ticket-relay events\` lists): when it came and from which source; each of its events (type,
ticket, status change) and what each route made of it (matched, and to which targets, or the
condition that did not hold); then each delivery with every step, in order and in UTC: held (by
a mute, the ticket's order or the target's pace, until when), each try (how long it took, and
for a failure what the far side answered: HTTP status, Slack error or SMTP code, and the start
of its answer), delivered (where: the Slack message and its link, the email's Message-ID, the
HTTP status), retrying (the next try), dead letter (and its fallback), queued again by a replay.
Ends with how often the same webhook came again, and its body when the history kept it
(history.bodies).
  --json   the same as one JSON object`,
  async run(args) {
    const { values, positionals } = parseOptions(args, { config: { type: "string" }, json: { type: "boolean" } }, true);
    const [id, ...more] = positionals;
    if (id === undefined || more.length > 0) throw new UsageError("events show takes one receipt id");
    return withHistory(values.config, async ({ history, config }) => {
      const story = await history.reader.show(id);
      if (!story) {
        console.error(notInHistory(id));
        return 1;
      }
      if (values.json) printJson(story);
      else console.log(describe(story, targetTypesOf(config)));
      return 0;
    });
  },
};

/** Said for a receipt id the history has no record of. */
export function notInHistory(id: string): string {
  return `no webhook "${id}" in the history: never accepted, older than history.maxAge or past history.maxWebhooks, or its ticket forgotten (see \`ticket-relay events\`)`;
}

function describe(story: WebhookStory & { body?: unknown; failedEvents?: unknown[] }, types: TargetTypes): string {
  const { webhook } = story;
  const received = Date.parse(webhook.receivedAt);
  const lines = [`webhook   ${webhook.id}`, `received  ${clockAndAge(webhook.receivedAt)} from ${webhook.source}`];
  if (story.duplicates > 0) {
    lines.push(`again     ${counted(story.duplicates, "time")} more, answered {"duplicate": true}`);
  }

  lines.push("", "events");
  for (const [index, event] of webhook.events.entries()) {
    const ticket = ticketOf(event);
    const about = [event.type, ticket && `ticket ${ticket}`, statusChange(event)].filter(Boolean).join(", ");
    lines.push(`  ${index}  ${about}`);
    const width = Math.max(...event.routes.map((reason) => reason.route.length));
    for (const reason of event.routes) lines.push(`       ${reason.route.padEnd(width)}  ${routeLine(reason)}`);
    if (event.routes.length === 0) lines.push("       no routes in the config");
  }
  if (webhook.moreEvents) lines.push(`  and ${counted(webhook.moreEvents, "more event")}, routed but not recorded`);

  lines.push("", story.deliveries.length === 0 ? "deliveries: none, no route took any event" : "deliveries");
  for (const delivery of story.deliveries) {
    const event = delivery.event >= 0 ? `event ${delivery.event}` : "as a fallback";
    lines.push(
      `  ${delivery.id}`,
      `    to ${delivery.target} by route ${delivery.route || "-"} (${event}): ${delivery.state}`,
    );
    if (delivery.steps.length === 0) {
      lines.push(
        delivery.state === "held"
          ? "    queued behind an earlier delivery of its ticket to the same target"
          : "    queued, not tried yet",
      );
    }
    for (const step of delivery.steps) {
      lines.push(
        `    ${clock(step.at)} (+${sinceReceived(received, step.at)})  ${stepText(step, delivery.target, types)}`,
      );
      const excerpt = excerptOf(step);
      if (excerpt) lines.push(`      ${excerpt}`);
      if (step.kind === "dead") lines.push(`      see \`ticket-relay dlq show ${delivery.id}\``);
    }
  }

  if (story.failedEvents && story.failedEvents.length > 0) {
    lines.push("", `kept for a replay: ${counted(story.failedEvents.length, "event")} of a delivery that failed a try`);
  }
  if (story.body !== undefined) {
    lines.push("", "body (kept by history.bodies)", JSON.stringify(story.body, null, 2));
  }
  return lines.join("\n");
}

/** Time since the webhook came: `0.042s`, `12.5s`, past a minute `3m12s`. */
function sinceReceived(received: number, at: number): string {
  const ms = Math.max(0, at - received);
  if (ms >= 60_000) return age(new Date(received).toISOString(), at);
  return ms < 10_000 ? `${(ms / 1000).toFixed(3)}s` : `${(ms / 1000).toFixed(1)}s`;
}
