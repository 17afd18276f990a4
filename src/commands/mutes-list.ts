import { type Command, parseOptions } from "./command.js";
import { oneLine, printJson, table, untilWithTimeLeft } from "./output.js";
import { withRelayState } from "./relay-state.js";

export const mutesList: Command = {
  name: "mutes",
  help: `Usage: ticket-relay mutes [--json] [--config FILE]

Lists the mutes in force (\`ticket-relay mute\`), soonest end first: what is muted, until when
and for how much longer, whether its deliveries are held or dropped, how many it holds now, and
why.
  --json   as a JSON array of { kind, name, until, since, reason, drop, held }`,
  async run(args) {
    const { values } = parseOptions(args, { config: { type: "string" }, json: { type: "boolean" } });
    return withRelayState(values.config, async ({ mutes }) => {
      const listed = await mutes.list();
      if (values.json) printJson(listed);
      else if (listed.length === 0) console.log("no mutes");
      else {
        const now = Date.now();
        const rows = listed.map((mute) => [
          mute.kind,
          mute.name,
          untilWithTimeLeft(mute.until, now),
          mute.drop ? "drop" : "hold",
          String(mute.held),
          oneLine(mute.reason ?? "-", 120),
        ]);
        console.log(table(["KIND", "NAME", "UNTIL", "DELIVERIES", "HELD", "REASON"], rows));
      }
      return 0;
    });
  },
};
