import { type Command, parseOptions } from "../command.js";
import { durationOption } from "../duration-option.js";
import { counted, printJson } from "../output.js";
import { withRelayState } from "../relay-state.js";
import { selectorFrom } from "./selector.js";
import { notFound } from "./show.js";

export const dlqReplay: Command = {
  name: "dlq replay",
  help: `Usage: ticket-relay dlq replay (ID... | --target T | --all) [--since 1h] [--json] [--config FILE]

Queues dead letters again under the same delivery ids, with all their tries: fix what made
them fail (the receiver, the config) first. A replayed dead letter leaves the list; one that
fails again comes back to it. Running workers pick them up at once.
  ID...        these dead letters
  --target T   every dead letter of target T
  --all        every dead letter
  --since 1h   with --target or --all: only those that gave up within this long
  --json       the counts as JSON`,
  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        target: { type: "string" },
        all: { type: "boolean" },
        since: { type: "string" },
        json: { type: "boolean" },
      },
      true,
    );
    const selector = selectorFrom(positionals, values, values.since === undefined ? undefined : "--since");
    const since = durationOption("--since", values.since);
    return withRelayState(values.config, async ({ config, deadLetters, disabledTargets, history }) => {
      const replayedIds: string[] = [];
      const result = await deadLetters.replay({ ...selector, since }, replayedIds);
      if (config.history.enabled) await history.noteReplayed(replayedIds, "dlq replay");
      if (values.json) printJson(result);
      else console.log(`replayed ${counted(result.replayed, "dead letter")}`);
      for (const id of result.notFound) console.error(notFound(id));
      // A replay to a disabled target only makes the same dead letter again.
      for (const [target, off] of await disabledTargets.list()) {
        if (result.replayed === 0 || ("target" in selector && selector.target !== target)) continue;
        console.error(
          `note: target ${target} is disabled (${off.reason}); run \`ticket-relay targets enable ${target}\``,
        );
      }
      return result.notFound.length > 0 ? 1 : 0;
    });
  },
};
