import { type Command, parseOptions } from "../command.js";
import { durationOption } from "../duration-option.js";
import { counted, printJson } from "../output.js";
import { withRelayState } from "../relay-state.js";
import { selectorFrom } from "./selector.js";
import { notFound } from "./show.js";

export const dlqPurge: Command = {
  name: "dlq purge",
  help: `Usage: ticket-relay dlq purge (ID... | --target T | --all) [--older-than 7d] [--json] [--config FILE]

Deletes dead letters, their event and their log, for good. Without this they go by themselves
after deadLetters.keep (30 days by default).
  ID...             these dead letters
  --target T        every dead letter of target T
  --all             every dead letter
  --older-than 7d   with --target or --all: only those that gave up longer ago than this
  --json            the counts as JSON`,
  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        target: { type: "string" },
        all: { type: "boolean" },
        "older-than": { type: "string" },
        json: { type: "boolean" },
      },
      true,
    );
    const narrowing = values["older-than"] === undefined ? undefined : "--older-than";
    const selector = selectorFrom(positionals, values, narrowing);
    const olderThan = durationOption("--older-than", values["older-than"]);
    return withRelayState(values.config, async ({ deadLetters }) => {
      const result = await deadLetters.purge({ ...selector, olderThan });
      if (values.json) printJson(result);
      else console.log(`purged ${counted(result.purged, "dead letter")}`);
      for (const id of result.notFound) console.error(notFound(id));
      return result.notFound.length > 0 ? 1 : 0;
    });
  },
};
