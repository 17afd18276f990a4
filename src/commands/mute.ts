import { muteSubjects, resolveMuteSubject } from "../queue/mutes.js";
import { type Command, parseOptions, UsageError } from "./command.js";
import { durationOption } from "./duration-option.js";
import { withRelayState } from "./relay-state.js";

export const mute: Command = {
  name: "mute",
  help: `Usage: ticket-relay mute TARGET|ROUTE --for 1h [--reason TEXT] [--drop] [--config FILE]

Mutes a target (by its id) or a route (by its name) for a while, without editing the config.
While it is muted, its deliveries are held, using none of their tries, and sent when the mute
ends or is lifted (\`ticket-relay unmute\`); with --drop they are dropped instead. Every worker
sees a new mute within a second. Muting it again replaces the mute, end and all.
Name a target and a route that share a name as target:NAME or route:NAME.
  --for 1h       how long (30s, 15m, 1h, 2d …); required
  --reason TEXT  why, shown by \`ticket-relay mutes\` and in the logs
  --drop         drop its deliveries while muted instead of holding them
Exit 0 when muted, 1 when the config names no such target or route or Redis fails, 2 on a
usage error.`,
  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        for: { type: "string" },
        reason: { type: "string" },
        drop: { type: "boolean" },
      },
      true,
    );
    const [given, ...more] = positionals;
    if (given === undefined || more.length > 0) throw new UsageError("mute takes one target or route");
    const forMs = durationOption("--for", values.for);
    if (forMs === undefined) throw new UsageError("mute needs --for, how long: e.g. --for 1h");
    if (forMs <= 0) throw new UsageError("--for must be longer than 0");
    return withRelayState(values.config, async ({ config, file, mutes }) => {
      const subject = resolveMuteSubject(given, muteSubjects(config));
      if ("problem" in subject) {
        console.error(`${subject.problem} (${file})`);
        return 1;
      }
      const { mute: set, replaced } = await mutes.mute(subject, {
        forMs,
        reason: values.reason,
        drop: values.drop,
      });
      const what = set.drop ? "dropped" : "held, and sent when the mute ends";
      console.log(
        `${replaced ? "muted again" : "muted"}: ${set.kind} ${set.name} until ${set.until}; its deliveries are ${what}`,
      );
      return 0;
    });
  },
};
