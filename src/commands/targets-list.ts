import { type Command, parseOptions } from "./command.js";
import { age, printJson, table } from "./output.js";
import { withRelayState } from "./relay-state.js";

export const targetsList: Command = {
  name: "targets list",
  help: `Usage: ticket-relay targets list [--json] [--config FILE]

Lists the targets that are disabled: a receiver answered HTTP 410 Gone, so every delivery to
that target becomes a dead letter at once until \`ticket-relay targets enable ID\`.
  --json   as a JSON array of { target, reason, since }`,
  async run(args) {
    const { values } = parseOptions(args, { config: { type: "string" }, json: { type: "boolean" } });
    return withRelayState(values.config, async ({ disabledTargets }) => {
      const disabled = [...(await disabledTargets.list())].map(([target, off]) => ({ target, ...off }));
      if (values.json) printJson(disabled);
      else if (disabled.length === 0) console.log("no disabled targets");
      else {
        const rows = disabled.map((off) => [off.target, `${off.since} (${age(off.since)} ago)`, off.reason]);
        console.log(table(["TARGET", "SINCE", "REASON"], rows));
      }
      return 0;
    });
  },
};
