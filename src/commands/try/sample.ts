import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The sample webhooks `ticket-relay try` posts: the test fixtures themselves, one realistic
 * payload per event type, read at run time so that tests and `try` never disagree about what
 * a platform sends. The path is the same from src/commands/ (under tsx) and from
 * dist/commands/ (built): two levels up is the package root, which ships test/fixtures.
 */
const fixturesRoot = new URL("../../../test/fixtures/", import.meta.url);

export const samplePlatforms = ["socialboards", "sonar"] as const;
export type SamplePlatform = (typeof samplePlatforms)[number];
export const platformNames: Record<SamplePlatform, string> = { socialboards: "Socialboards", sonar: "Sonar" };

/** What `try` posts when no EVENT is named: the example Socialboards documents, open → pending. */
export const defaultEvents: Record<SamplePlatform, string> = {
  socialboards: "ticket_status_change",
  sonar: "new_assigned_message",
};

export interface Sample {
  platform: SamplePlatform;
  event: string;
  /** Where it was read from, relative to the package root, for the user to open. */
  file: string;
  /** The webhook body, with the run marker in it. */
  body: Record<string, unknown>;
  /** Short and random: tells this run's post apart in Slack, the logs and the dedupe window. */
  marker: string;
  /** What the marker reads as where a person sees it: `(sample: ticket-relay try 3f9a2c)`. */
  mark: string;
}

/**
 * The ticket number `try` posts its Socialboards samples under, in place of the fixtures'
 * 4478963 (the ticket of Socialboards' documentation, which a real ticket may share): samples
 * then never join a real ticket's thread, and all of them share one obviously-sample thread.
 */
export const sampleTicketId = 9990001;

/** The ticket number the fixtures use, as Socialboards' documentation does. */
const fixtureTicketId = 4478963;

/** The event types there is a sample of, per platform, sorted; empty when the fixtures are missing. */
export function sampleEvents(): Record<SamplePlatform, string[]> {
  const listed = (platform: SamplePlatform) => {
    const folder = new URL(`${platform}/`, fixturesRoot);
    if (!existsSync(folder)) return [];
    return readdirSync(folder)
      .filter((name) => name.endsWith(".json"))
      .map((name) => name.slice(0, -".json".length))
      .sort();
  };
  return { socialboards: listed("socialboards"), sonar: listed("sonar") };
}

/** The platform with a sample of this event type, if any. */
export function platformOf(event: string, events = sampleEvents()): SamplePlatform | undefined {
  return samplePlatforms.find((platform) => events[platform].includes(event));
}

/** Where the samples are expected, for the message when they are not there. */
export function samplesFolder(): string {
  return fileURLToPath(fixturesRoot);
}

/**
 * Reads one sample and marks it as this run's. Ingest treats the same body from a source
 * within its dedupe window (24 h) as the platform re-sending, and would swallow a second try,
 * so each run's body differs: the marker goes where a person sees it (a ticket's title, a
 * reply's, note's or message's text), or, in a payload without any text, into a field of the
 * envelope that the relay ignores.
 */
export function loadSample(platform: SamplePlatform, event: string): Sample {
  const file = `test/fixtures/${platform}/${event}.json`;
  const body = withSampleTicket(sampleBody(platform, event));
  const marker = randomBytes(3).toString("hex");
  const mark = `(sample: ticket-relay try ${marker})`;
  const marked = platform === "socialboards" ? markSocialboards(body, mark) : markSonar(body, mark);
  if (!marked) body[platform === "socialboards" ? "TicketRelayTry" : "ticket_relay_try"] = marker;
  return { platform, event, file, body, marker, mark };
}

/** The body with the fixtures' ticket number, wherever it appears (ids, inbox links), made the sample's. */
function withSampleTicket(body: Record<string, unknown>): Record<string, unknown> {
  const text = JSON.stringify(body).replace(new RegExp(`\\b${fixtureTicketId}\\b`, "g"), String(sampleTicketId));
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * One sample's body as the platform sends it, without a run marker: for a dry run (the
 * console's route tester), which posts nothing and so meets no dedupe window.
 */
export function sampleBody(platform: SamplePlatform, event: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`${platform}/${event}.json`, fixturesRoot), "utf8")) as Record<
    string,
    unknown
  >;
}

/** The texts of a Socialboards item a person reads first. */
const socialboardsTexts = [
  ["Ticket", "Title"],
  ["Reply", "Message"],
  ["Note", "Message"],
  ["Message", "Message"],
] as const;

function markSocialboards(body: Record<string, unknown>, mark: string): boolean {
  let marked = false;
  const items = Array.isArray(body.Events) ? body.Events : [];
  for (const item of items) {
    for (const [object, field] of socialboardsTexts) {
      const holder = asRecord(asRecord(item)?.[object]);
      if (holder && typeof holder[field] === "string") {
        holder[field] = `${holder[field]} ${mark}`;
        marked = true;
      }
    }
  }
  return marked;
}

function markSonar(body: Record<string, unknown>, mark: string): boolean {
  if (typeof body.text !== "string") return false;
  body.text = `${body.text} ${mark}`;
  return true;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}
