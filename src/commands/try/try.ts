import { resolveConfigPath } from "../../config/load.js";
import type { Config } from "../../config/schema.js";
import type { HistoryTools } from "../../history/history-tools.js";
import { deliveryJobId } from "../../queue/jobs.js";
import { type Command, parseOptions, UsageError } from "../command.js";
import { durationOption } from "../duration-option.js";
import { loadOrReport } from "../load-config.js";
import { counted, printJson } from "../output.js";
import { withLoadedRelayState } from "../relay-state.js";
import { type ExpectedDelivery, type FollowedDelivery, followDeliveries, type HeldLookup } from "./follow.js";
import { describePlan, type PlannedEvent, plan } from "./plan.js";
import { type PostOutcome, postSample } from "./post.js";
import {
  defaultEvents,
  loadSample,
  platformNames,
  platformOf,
  type SamplePlatform,
  sampleEvents,
  samplePlatforms,
  samplesFolder,
  sampleTicketId,
} from "./sample.js";

const defaultWaitMs = 15_000;

/** Everything `try` found out, as `--json` prints it. */
interface TryReport {
  source: string;
  sourceType: SamplePlatform;
  event: string;
  sample: string;
  marker: string;
  /** The endpoint posted to, its token left out. */
  url: string;
  /** The events of the sample, each with its id once the relay accepted it. */
  events: ({ id?: string } & Omit<PlannedEvent, "idSuffix">)[];
  /** The relay's HTTP status and JSON; absent when it did not answer. */
  answer?: { status: number; body: unknown };
  accepted: boolean;
  receipt?: string;
  error?: string;
  hint?: string;
  deliveries: FollowedDelivery[];
  /** Accepted, and every expected delivery delivered: exit 0. */
  ok: boolean;
}

const usage = `Usage: ticket-relay try [EVENT] [--source ID] [--url BASE] [--wait 15s] [--json] [--config FILE]

Posts a realistic sample webhook to the running relay and shows what happened to it: which
routes and targets the config sends it to, what the relay answered, and each delivery as it
is delivered or becomes a dead letter. Start the relay (npm start), then run this in another
terminal.
  EVENT        a Socialboards or Sonar event type (default: a Socialboards ticket_status_change,
               open → pending); an unknown one lists those there are samples of
  --source ID  the socialboards or sonar source to post to (default: the first socialboards
               source, else the first sonar source); its urlToken goes in ?token=
  --url BASE   where the relay listens (default: http://127.0.0.1:<server.port>, or server.host
               when the relay listens on one address; PORT overrides server.port)
  --wait 15s   how long to follow the deliveries (30s, 1m …)
  --json       the whole story as one JSON document

The samples are the payloads in test/fixtures/<platform>/<event>.json. A Socialboards sample
is posted as ticket #${sampleTicketId}, not a real ticket's number, so all samples share one thread of
their own. Each run marks its sample, e.g. "(sample: ticket-relay try 3f9a2c)" in the ticket
title, so the message says it is a sample and the relay does not take a second run for the
platform re-sending the first.
Exit 0 when every delivery was delivered, or when the relay accepted an event that no route
matches; 1 when the relay did not accept it or a delivery was not delivered; 2 on a usage error.`;

export const tryCommand: Command = {
  name: "try",
  // A getter: the list of samples is read from the fixtures when the help is asked for.
  get help() {
    return `${usage}\n\nThe sample EVENTs:\n${sampleList(sampleEvents())}`;
  },

  async run(args) {
    const { values, positionals } = parseOptions(
      args,
      {
        config: { type: "string" },
        source: { type: "string" },
        url: { type: "string" },
        wait: { type: "string" },
        json: { type: "boolean" },
      },
      true,
    );
    if (positionals.length > 1) throw new UsageError("try takes at most one EVENT");
    const [requested] = positionals;
    const waitMs = durationOption("--wait", values.wait) ?? defaultWaitMs;
    const events = sampleEvents();
    if (samplePlatforms.every((platform) => events[platform].length === 0)) {
      console.error(`no sample webhooks in ${samplesFolder()}: the package's test/fixtures folder is missing`);
      return 1;
    }
    if (requested !== undefined && !platformOf(requested, events)) {
      console.error(unknownEvent(requested, events));
      return 2;
    }

    const file = resolveConfigPath(values.config);
    const config = await loadOrReport(file);
    if (!config) return 1;
    const chosen = chooseSource(config, file, values.source, requested, events);
    if ("refused" in chosen) {
      console.error(chosen.refused);
      return chosen.exit;
    }
    const base = (values.url ?? defaultBase(config)).replace(/\/+$/, "");
    if (!/^https?:\/\//.test(base) || !URL.canParse(base)) {
      throw new UsageError(`--url takes the relay's base URL, such as http://127.0.0.1:8080, not "${base}"`);
    }
    const endpoint = new URL(`${base}/webhooks/${encodeURIComponent(chosen.id)}`);
    if (chosen.token !== undefined) endpoint.searchParams.set("token", chosen.token);

    const sample = loadSample(chosen.platform, requested ?? defaultEvents[chosen.platform]);
    const planned = plan(config, chosen.id, sample.body);
    const report: TryReport = {
      source: chosen.id,
      sourceType: chosen.platform,
      event: sample.event,
      sample: sample.file,
      marker: sample.marker,
      url: endpoint.href.replace(/([?&]token=)[^&]*/, "$1…"),
      events: planned.map(({ idSuffix: _, ...event }) => event),
      answer: undefined,
      accepted: false,
      receipt: undefined,
      error: undefined,
      hint: undefined,
      deliveries: [],
      ok: false,
    };
    const say = values.json ? () => undefined : (line: string) => console.log(line);

    const ticket = sample.platform === "socialboards" ? ` as ticket #${sampleTicketId}` : "";
    say(`sample    ${sample.file}${ticket}, marked "${sample.mark}"`);
    for (const event of planned) describePlan(event, planned.length > 1, say);
    say(`post      ${report.url}`);

    // The relay stores the webhook after this moment: where `try` looks for it until it is routed.
    const postedAt = new Date().toISOString();
    const outcome = await postSample(endpoint, sample.body, { sourceId: chosen.id, file, base });
    report.answer = answerOf(outcome);
    if (!outcome.accepted) {
      Object.assign(report, { error: outcome.error, ...(outcome.hint !== undefined && { hint: outcome.hint }) });
      if (values.json) printJson(report);
      else console.error(outcome.hint ? `${outcome.error}\n${outcome.hint}` : outcome.error);
      return 1;
    }
    report.accepted = true;
    report.receipt = outcome.receipt;
    report.events = planned.map(({ idSuffix, ...event }) => ({ id: outcome.receipt + idSuffix, ...event }));
    say(`answer    accepted ${counted(outcome.events, "event")}, receipt ${outcome.receipt}`);

    const expected: ExpectedDelivery[] = planned.flatMap((event) =>
      event.routes.flatMap(({ route, targets }) =>
        targets.map((target) => ({ id: deliveryJobId(outcome.receipt + event.idSuffix, target), target, route })),
      ),
    );
    if (expected.length === 0) {
      say("nothing to follow: no route sends this event anywhere");
      report.ok = true;
      if (values.json) printJson(report);
      return 0;
    }
    const deliveries = expected.length === 1 ? "1 delivery" : `${expected.length} deliveries`;
    say(`following ${deliveries} for up to ${waitMs / 1000}s`);
    let followed = false;
    const code = await withLoadedRelayState(config, file, async ({ deliveryProgress, history }) => {
      const held: HeldLookup | undefined = config.history.enabled ? (id) => lastHolds(history.reader, id) : undefined;
      report.deliveries = await followDeliveries(
        deliveryProgress,
        { id: outcome.receipt, receivedAt: postedAt },
        expected,
        { waitMs, file, say, ...(held && { held }) },
      );
      followed = true;
      const delivered = report.deliveries.filter((delivery) => delivery.state === "delivered").length;
      report.ok = delivered === expected.length;
      say(`${delivered} of ${expected.length} delivered`);
      return report.ok ? 0 : 1;
    });
    if (!followed) report.error = "the deliveries could not be followed: the relay's Redis did not answer (see above)";
    if (values.json) printJson(report);
    return followed ? code : 1;
  },
};

/** Each delivery of the webhook whose last step in the history is a hold, with that hold. */
async function lastHolds(reader: HistoryTools["reader"], receiptId: string): ReturnType<HeldLookup> {
  const holds: Awaited<ReturnType<HeldLookup>> = new Map();
  const story = await reader.show(receiptId).catch(() => undefined);
  for (const delivery of story?.deliveries ?? []) {
    const last = delivery.steps.at(-1);
    if (last?.kind === "held") {
      holds.set(delivery.id, { by: last.by, until: new Date(last.until).toISOString(), why: last.why });
    }
  }
  return holds;
}

type ChosenSource = { id: string; platform: SamplePlatform; token: string | undefined };

/** `--source`, or the first source of the sample's platform; refused with a line and an exit code. */
function chooseSource(
  config: Config,
  file: string,
  flag: string | undefined,
  event: string | undefined,
  events: Record<SamplePlatform, string[]>,
): ChosenSource | { refused: string; exit: number } {
  const eventPlatform = event === undefined ? undefined : platformOf(event, events);
  const all = Object.entries(config.sources);
  if (flag !== undefined) {
    const source = config.sources[flag];
    if (!source) {
      return { refused: `no source "${flag}" in ${file} (sources: ${all.map(([id]) => id).join(", ")})`, exit: 2 };
    }
    if (source.type === "generic") {
      return {
        refused: `"${flag}" is a generic source: try has sample webhooks of Socialboards and Sonar only. Have the platform that posts to /webhooks/${flag} send a test webhook instead, or name a socialboards or sonar source with --source.`,
        exit: 2,
      };
    }
    if (eventPlatform !== undefined && eventPlatform !== source.type) {
      return {
        refused: `${event} is a ${platformNames[eventPlatform]} event, and "${flag}" is a ${platformNames[source.type]} source: name a ${eventPlatform} source with --source, or leave --source out`,
        exit: 2,
      };
    }
    return { id: flag, platform: source.type, token: source.urlToken };
  }
  const wanted = eventPlatform ? [eventPlatform] : samplePlatforms;
  for (const platform of wanted) {
    const found = all.find(([, source]) => source.type === platform);
    if (found) return { id: found[0], platform, token: found[1].urlToken };
  }
  return {
    refused: eventPlatform
      ? `${event} is a ${platformNames[eventPlatform]} event, and ${file} has no ${eventPlatform} source`
      : `no socialboards or sonar source in ${file}: try has sample webhooks of Socialboards and Sonar only`,
    exit: 1,
  };
}

/** Where the relay listens by the config: a relay on every address answers on loopback. */
function defaultBase(config: Config): string {
  const { host, port } = config.server;
  if (["", "0.0.0.0", "::", "[::]"].includes(host)) return `http://127.0.0.1:${port}`;
  return `http://${host.includes(":") && !host.startsWith("[") ? `[${host}]` : host}:${port}`;
}

function answerOf(outcome: PostOutcome): TryReport["answer"] {
  if (outcome.accepted) {
    return { status: outcome.status, body: { accepted: outcome.events, receipt: outcome.receipt } };
  }
  return outcome.status === undefined ? undefined : { status: outcome.status, body: outcome.answer };
}

function unknownEvent(event: string, events: Record<SamplePlatform, string[]>): string {
  return `no sample event "${event}"; there are samples of these:\n${sampleList(events)}`;
}

/** The sample events per platform, a list each, as the help and the answer to an unknown event show them. */
function sampleList(events: Record<SamplePlatform, string[]>): string {
  const lists = samplePlatforms.map((platform) => `  ${platformNames[platform]}:\n${wrapped(events[platform])}`);
  return lists.join("\n");
}

/** Names in lines of at most about 100 characters, indented. */
function wrapped(names: string[]): string {
  const lines: string[] = [];
  let line = "";
  for (const name of names) {
    const next = line ? `${line}, ${name}` : name;
    if (next.length > 92 && line) {
      lines.push(`${line},`);
      line = name;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines.map((text) => `    ${text}`).join("\n");
}
