import { type Command, parseOptions } from "../command.js";
import { durationOption } from "../duration-option.js";
import { age, oneLine, printJson, table } from "../output.js";
import { withRelayState } from "../relay-state.js";

export const dlqList: Command = {
  name: "dlq list",
  help: `Usage: ticket-relay dlq list [--target T] [--since 1h] [--json] [--config FILE]

Lists the dead letters, the deliveries that gave up, newest first: one line each with the
delivery id, how long ago it gave up, the target, the ticket, the event type and the last error.
  --target T   only those to target T
  --since 1h   only those that gave up within this long (30m, 1h, 7d …)
  --json       every field of each, as a JSON array (first error, tries, route …)`,
  async run(args) {
    const { values } = parseOptions(args, {
      config: { type: "string" },
      target: { type: "string" },
      since: { type: "string" },
      json: { type: "boolean" },
    });
    const since = durationOption("--since", values.since);
    return withRelayState(values.config, async ({ deadLetters }) => {
      const letters = await deadLetters.list({ target: values.target, since });
      if (values.json) printJson(letters);
      else if (letters.length === 0) console.log("no dead letters");
      else {
        const rows = letters.map((letter) => [
          letter.id,
          age(letter.failedAt),
          letter.target,
          letter.ticketId ?? "-",
          letter.eventType,
          oneLine(letter.lastError.reason, 160),
        ]);
        console.log(table(["ID", "AGE", "TARGET", "TICKET", "EVENT", "LAST ERROR"], rows));
      }
      return 0;
    });
  },
};
