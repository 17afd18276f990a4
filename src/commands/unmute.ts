import { muteSubjects, resolveMuteSubject } from "../queue/mutes.js";
import { type Command, parseOptions, UsageError } from "./command.js";
import { withRelayState } from "./relay-state.js";

export const unmute: Command = {
  name: "unmute",
  help: `Usage: ticket-relay unmute TARGET|ROUTE [--config FILE]

Lifts a mute before its end (\`ticket-relay mute\`): the deliveries it held go to their target
now, each once. A target and a route that share a name: target:NAME or route:NAME.
Exit 0 when lifted or when it was not muted, 1 when the config names no such target or route
(and nothing by that name is muted) or Redis fails, 2 on a usage error.`,
  async run(args) {
    const { values, positionals } = parseOptions(args, { config: { type: "string" } }, true);
    const [given, ...more] = positionals;
    if (given === undefined || more.length > 0) throw new UsageError("unmute takes one target or route");
    return withRelayState(values.config, async ({ config, file, mutes }) => {
      const subject = resolveMuteSubject(given, muteSubjects(config), await mutes.active());
      if ("problem" in subject) {
        console.error(`${subject.problem} (${file})`);
        return 1;
      }
      const { removed, released } = await mutes.unmute(subject);
      if (!removed && released === 0) {
        console.log(`${subject.kind} ${subject.name} was not muted`);
        return 0;
      }
      const deliveries = released === 1 ? "1 held delivery" : `${released} held deliveries`;
      console.log(`unmuted: ${subject.kind} ${subject.name}; ${deliveries} released`);
      return 0;
    });
  },
};
