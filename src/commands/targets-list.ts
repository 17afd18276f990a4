import { type Command, parseOptions } from "./command.js";
import { age, printJson, table, untilWithTimeLeft } from "./output.js";
import { withRelayState } from "./relay-state.js";

export const targetsList: Command = {
  name: "targets list",
  help: `Usage: ticket-relay targets list [--json] [--config FILE]

Lists the targets that are disabled: a receiver answered HTTP 410 Gone, so every delivery to
that target becomes a dead letter at once until \`ticket-relay targets enable ID\`. Then the
targets that are muted (\`ticket-relay mute\`): their deliveries are held or dropped until when.
  --json   as a JSON array of { target, state: "disabled", reason, since } and
           { target, state: "muted", until, reason, drop, held }`,
  async run(args) {
    const { values } = parseOptions(args, { config: { type: "string" }, json: { type: "boolean" } });
    return withRelayState(values.config, async ({ disabledTargets, mutes }) => {
      const disabled = [...(await disabledTargets.list())].map(([target, off]) => ({ target, ...off }));
      const muted = (await mutes.list()).filter((mute) => mute.kind === "target");
      if (values.json) {
        printJson([
          ...disabled.map((off) => ({ target: off.target, state: "disabled", reason: off.reason, since: off.since })),
          ...muted.map(({ name, until, reason, drop, held }) => ({
            target: name,
            state: "muted",
            until,
            reason,
            drop,
            held,
          })),
        ]);
        return 0;
      }
      if (disabled.length === 0) console.log("no disabled targets");
      else {
        const rows = disabled.map((off) => [off.target, `${off.since} (${age(off.since)} ago)`, off.reason]);
        console.log(table(["TARGET", "SINCE", "REASON"], rows));
      }
      if (muted.length > 0) {
        const rows = muted.map((mute) => [
          mute.name,
          untilWithTimeLeft(mute.until),
          mute.drop ? "dropped" : `held (${mute.held})`,
          mute.reason ?? "-",
        ]);
        console.log(`\n${table(["MUTED TARGET", "UNTIL", "DELIVERIES", "REASON"], rows)}`);
      }
      return 0;
    });
  },
};
