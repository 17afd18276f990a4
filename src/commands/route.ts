import { resolveConfigPath } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { compileTimeIntervals, parseInstant } from "../routing/time-intervals.js";
import { createSources } from "../sources/registry.js";
import { InvalidPayload } from "../sources/source.js";
import { type Command, parseOptions, UsageError } from "./command.js";
import { type DryRunEvent, dryRun, readJsonFile, sourceForPayload, verdictLine, wouldSendText } from "./dry-run.js";
import { loadOrReport } from "./load-config.js";
import { counted, printJson } from "./output.js";

export const route: Command = {
  name: "route",
  help: `Usage: ticket-relay route --event FILE.json [--source ID] [--at TIME] [--json] [--config FILE]

A dry run of the routes: reads a webhook body from FILE.json, turns it into events with its
source's adapter, and shows for each event which routes take it, the first condition each
other route fails (pending-to-support: previousStatus is "pending", wanted "open"), which
targets would receive it, and the exact message each would be sent (Slack text and blocks,
the email's subject and text, the HTTP body). Sends nothing and needs no Redis.
Routes with activeDuring or mutedDuring are judged at the time the event was received: now,
or --at; the time intervals of the config are listed with whether each holds then.
  --event FILE  a webhook body, e.g. test/fixtures/socialboards/ticket_status_change.json
  --source ID   the source it is for (default: the first socialboards source when the body has
                EventType or Events, the first sonar source when it has action)
  --at TIME     route as if the webhook was received then: an ISO 8601 time with its offset,
                e.g. 2026-12-24T03:00:00+01:00 or 2026-12-24T02:00:00Z (default: now)
  --json        the same as one JSON document
Exit 0 after showing it, 1 when the file or the config cannot be read or the body is not the
source's, 2 on a usage error (a --at without an offset …) or when the source cannot be told.`,

  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        event: { type: "string" },
        source: { type: "string" },
        at: { type: "string" },
        json: { type: "boolean" },
      },
      true,
    );
    if (positionals.length > 0) throw new UsageError(`route takes no arguments besides its options: ${positionals[0]}`);
    if (values.event === undefined) throw new UsageError("route needs --event FILE.json, the webhook body to route");
    const at = values.at === undefined ? new Date() : atOption(values.at);

    const file = resolveConfigPath(values.config);
    const config = await loadOrReport(file);
    if (!config) return 1;
    const read = await readJsonFile(values.event);
    if ("unreadable" in read) {
      console.error(read.unreadable);
      return 1;
    }
    const chosen = sourceForPayload(createSources(config), read.json, values.source, "--source");
    if ("refused" in chosen) {
      console.error(`${values.event}: ${chosen.refused}`);
      return 2;
    }
    let events: DryRunEvent[];
    try {
      events = dryRun(config, chosen.source, read.json, at);
    } catch (error) {
      if (!(error instanceof InvalidPayload)) throw error;
      console.error(`${values.event}: ${error.message}`);
      return 1;
    }

    const { id, type } = chosen.source;
    const intervals = intervalsAt(config, at);
    const timed = values.at !== undefined || intervals.length > 0;
    if (values.json) {
      const time = timed ? { at: at.toISOString(), intervals } : {};
      printJson({ payload: values.event, source: id, sourceType: type, ...time, events });
      return 0;
    }
    const lines = [`payload   ${values.event}`, `source    ${id} (${type}), ${counted(events.length, "event")}`];
    if (timed) lines.push(`received  ${values.at ?? at.toISOString()}`);
    const [first, ...rest] = intervals.map(
      ({ name, holds, localTime }) =>
        `${holds ? "✓" : "✗"} ${name} ${holds ? "holds" : "does not hold"} (${localTime})`,
    );
    if (first) lines.push(`intervals ${first}`, ...rest.map((line) => `          ${line}`));
    for (const event of events) lines.push("", ...describeEvent(event, events.length > 1));
    console.log(lines.join("\n"));
    return 0;
  },
};

function describeEvent(event: DryRunEvent, numbered: boolean): string[] {
  const lines = [`${(numbered ? `event ${event.index}` : "event").padEnd(10)}${event.type}: ${event.summary}`];
  const [first, ...rest] = event.routes.map(verdictLine);
  lines.push(`routes    ${first ?? "none: the config has no routes"}`, ...rest.map((line) => `          ${line}`));
  lines.push(`targets   ${event.targets.length > 0 ? event.targets.join(", ") : "none: no target receives it"}`);
  for (const message of event.messages) {
    lines.push("", `── ${message.target} (${message.type}, to ${message.to}), by route ${message.route}`);
    lines.push(wouldSendText(message));
  }
  return lines;
}

/** `--at`, which must carry its offset. */
function atOption(text: string): Date {
  const at = parseInstant(text);
  if (at) return at;
  throw new UsageError(
    `--at takes an ISO 8601 time with its offset, e.g. 2026-12-24T03:00:00+01:00 or 2026-12-24T02:00:00Z, not "${text}"`,
  );
}

/** Each time interval of the config, whether it holds at `at`, and its local time then. */
export function intervalsAt(config: Config, at: Date): { name: string; holds: boolean; localTime: string }[] {
  const intervals = compileTimeIntervals(config.timeIntervals);
  const holds = intervals.at(at);
  return intervals.names.map((name) => ({ name, holds: holds(name), localTime: intervals.localTime(name, at) ?? "" }));
}
