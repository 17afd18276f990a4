import { type EventsFilter, InvalidCursor } from "../../history/history-reader.js";
import { type Outcome, outcomes } from "../../history/records.js";
import { type Command, parseOptions, UsageError } from "../command.js";
import { durationOption } from "../duration-option.js";
import { age, oneLine, printJson, table } from "../output.js";
import { eventsLine, outcomesLine, ticketsOf } from "./story-lines.js";
import { withHistory } from "./with-history.js";

export const events: Command = {
  name: "events",
  help: `Usage: ticket-relay events [--ticket ID] [--source S] [--type T] [--target T]
                           [--outcome OUTCOME] [--since 1h] [--limit N] [--cursor C] [--json] [--config FILE]

Lists the webhooks the relay accepted, newest first, from the history it keeps in Redis (see
history in the config): one line each with its receipt id, how long ago it came, its source, ticket and
events, and what became of each delivery: "support-slack delivered, crm retrying", "no route"
(no route took it: \`ticket-relay events show RECEIPT_ID\` says why), "×2 duplicate" (the same
webhook came twice more and was answered {"duplicate": true}).
  --ticket ID        only the webhooks of this ticket (or chat, or SMS customer)
  --source S         only those from source S
  --type T           only those with an event of type T (ticket_status_change …)
  --target T         only those with a delivery to target T
  --outcome OUTCOME  only those with a delivery in this state now, one of:
                     ${outcomes.join(", ")}
                     (failed: a try failed, even if a later one went through)
  --since 1h         only those received within this long (30m, 1h, 7d …)
  --limit N          at most N webhooks (default 50, at most 1000)
  --cursor C         the next, older page: the cursor the previous page ended with
  --json             { webhooks, next }: each webhook's whole story, and the cursor of the next
                     page (null when this is the last)

See also: events show, events tail, events refused, events replay, events forget, and
\`ticket-relay ticket ID\` for one ticket's timeline.`,
  async run(args) {
    const { values } = parseOptions(args, {
      config: { type: "string" },
      ticket: { type: "string" },
      source: { type: "string" },
      type: { type: "string" },
      target: { type: "string" },
      outcome: { type: "string" },
      since: { type: "string" },
      limit: { type: "string" },
      cursor: { type: "string" },
      json: { type: "boolean" },
    });
    const filter: EventsFilter = {
      ticket: values.ticket,
      source: values.source,
      type: values.type,
      target: values.target,
      outcome: outcomeOption(values.outcome),
      since: durationOption("--since", values.since),
      limit: limitOption(values.limit),
      cursor: values.cursor,
    };
    return withHistory(values.config, async ({ history }) => {
      let page: Awaited<ReturnType<typeof history.reader.list>>;
      try {
        page = await history.reader.list(filter);
      } catch (error) {
        if (!(error instanceof InvalidCursor)) throw error;
        console.error(`--cursor ${values.cursor}: ${error.message}`);
        return 2;
      }
      if (values.json) {
        printJson({ webhooks: page.webhooks, next: page.next ?? null });
        return 0;
      }
      if (page.webhooks.length === 0) console.log("no webhooks");
      else {
        const now = Date.now();
        const rows = page.webhooks.map((story) => [
          story.webhook.id,
          age(story.webhook.receivedAt, now),
          story.webhook.source,
          ticketsOf(story).join(",") || "-",
          oneLine(eventsLine(story.webhook.events, story.webhook.moreEvents), 60),
          oneLine(outcomesLine(story), 200),
        ]);
        console.log(table(["RECEIPT", "AGE", "SOURCE", "TICKET", "EVENT", "OUTCOME"], rows));
      }
      // On stderr: stdout stays one table a script can read.
      if (page.next) console.error(`older webhooks: add --cursor ${page.next}`);
      return 0;
    });
  },
};

/** `--outcome`, one of the outcomes the history indexes; also used by `events replay`. */
export function outcomeOption(text: string | undefined): Outcome | undefined {
  if (text === undefined) return undefined;
  if (!(outcomes as readonly string[]).includes(text)) {
    throw new UsageError(`--outcome takes one of ${outcomes.join(", ")}, not "${text}"`);
  }
  return text as Outcome;
}

function limitOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const limit = Number(text);
  if (!/^\d+$/.test(text) || limit < 1 || limit > 1000) {
    throw new UsageError(`--limit takes a whole number from 1 to 1000, not "${text}"`);
  }
  return limit;
}
