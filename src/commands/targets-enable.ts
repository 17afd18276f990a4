import { type Command, parseOptions, UsageError } from "./command.js";
import { withRelayState } from "./relay-state.js";

export const targetsEnable: Command = {
  name: "targets enable",
  help: `Usage: ticket-relay targets enable ID [--config FILE]

Sends to target ID again after it was disabled by an HTTP 410 Gone. Every worker sees it within
seconds. Deliveries that became dead letters meanwhile stay in the list: replay them with
\`ticket-relay dlq replay --target ID\`.`,
  async run(args) {
    const { values, positionals } = parseOptions(args, { config: { type: "string" } }, true);
    const [id, ...more] = positionals;
    if (id === undefined || more.length > 0) throw new UsageError("targets enable takes one target id");
    return withRelayState(values.config, async ({ config, file, disabledTargets }) => {
      if (await disabledTargets.enable(id)) {
        console.log(
          `target ${id} enabled; replay what failed meanwhile with \`ticket-relay dlq replay --target ${id}\``,
        );
        return 0;
      }
      if (id in config.targets) {
        console.log(`target ${id} was not disabled`);
        return 0;
      }
      console.error(`no target "${id}" in ${file}, and none disabled by that id`);
      return 1;
    });
  },
};
