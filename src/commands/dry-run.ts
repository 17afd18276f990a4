import { readFile } from "node:fs/promises";
import { closestName } from "../config/errors.js";
import type { Config } from "../config/schema.js";
import { compileTemplates } from "../messages/templates.js";
import { deliveryJobId } from "../queue/jobs.js";
import { type WouldSend, wouldSend } from "../queue/would-send.js";
import type { MatchCondition } from "../routing/conditions.js";
import { describeDecision } from "../routing/explain.js";
import type { FieldValue } from "../routing/fields.js";
import { compileRoutes, type RouteDecision } from "../routing/router.js";
import type { Source } from "../sources/source.js";
import { eventSummary } from "./try/plan.js";

/**
 * A payload through the config without sending anything, for `route` and `test`: normalized
 * by its source's own adapter, matched with the routes by the relay's own router, and rendered
 * for each target as `dlq show` renders a dead letter. Needs no Redis and no network.
 */

/** The receipt id events are normalized under: there is no real receipt in a dry run. */
const dryRunReceipt = "dry-run";

/** What one route made of one event. */
export type RouteVerdict =
  | { route: string; matched: true; targets: string[]; continue: boolean }
  /** The first condition of its match that the event fails, in words and as data. */
  | { route: string; matched: false; reason: string; key: string; value: FieldValue; wanted: MatchCondition }
  /** Its match holds, but not its time: `activeDuring` or `mutedDuring` at the event's receipt. */
  | { route: string; matched: false; reason: string; outsideTime: true }
  /** An earlier route took the event and did not say continue. */
  | { route: string; matched: false; notTried: string };

/** What a target would be sent, and by which route. */
export type DryRunMessage = { target: string; route: string } & WouldSend;

export interface DryRunEvent {
  index: number;
  id: string;
  type: string;
  known: boolean;
  summary: string;
  routes: RouteVerdict[];
  /** Each target once, in the order the relay would queue them. */
  targets: string[];
  messages: DryRunMessage[];
}

/**
 * Every event of the payload, as if received at `at` (default now: time intervals are judged
 * at it); throws the adapter's InvalidPayload when it is not the source's.
 */
export function dryRun(config: Config, source: Source, payload: unknown, at = new Date()): DryRunEvent[] {
  source.validate(payload);
  const receipt = { id: dryRunReceipt, source: source.id, receivedAt: at.toISOString() };
  const router = compileRoutes(config.routes, config.timeIntervals);
  const templates = compileTemplates(config);
  return source.normalize(payload, receipt).map((event, index) => {
    const deliveries = router.match(event);
    return {
      index,
      id: event.id,
      type: event.type,
      known: event.known,
      summary: eventSummary(event),
      // Judged at the event's receivedAt, which is `at`: the receipt above says so.
      routes: router.decide(event).map(routeVerdict),
      targets: deliveries.map((delivery) => delivery.targetId),
      messages: deliveries.map(({ targetId, route }) => ({
        target: targetId,
        route,
        ...wouldSend(
          deliveryJobId(event.id, targetId),
          { event, targetId, route },
          config.targets[targetId],
          templates,
        ),
      })),
    };
  });
}

/** A route's decision as `route --json` has always shown it (its golden files hold the shape). */
function routeVerdict(decision: RouteDecision): RouteVerdict {
  const { route } = decision;
  switch (decision.kind) {
    case "matched":
      return { route, matched: true, targets: [...decision.targets], continue: decision.continue };
    case "unmet": {
      const { key, value, condition } = decision.unmet;
      return { route, matched: false, reason: describeDecision(decision), key, value, wanted: condition };
    }
    case "inactive":
    case "muted":
      return { route, matched: false, reason: describeDecision(decision), outsideTime: true };
    case "notTried":
      return { route, matched: false, notTried: describeDecision(decision) };
  }
}

/** Route verdicts as lines: `✗ reopened: previousStatus is "open", wanted "pending"`. */
export function verdictLine(verdict: RouteVerdict): string {
  if (verdict.matched) {
    return `✓ ${verdict.route} → ${verdict.targets.join(", ")}${verdict.continue ? " (continue)" : ""}`;
  }
  if ("notTried" in verdict) return `– ${verdict.route}: not tried, ${verdict.notTried}`;
  return `✗ ${verdict.route}: ${verdict.reason}`;
}

/** What a target would be sent, as a person reads it: Slack's JSON, an email, an HTTP body. */
export function wouldSendText(message: WouldSend): string {
  switch (message.type) {
    case "slack":
      return JSON.stringify({ text: message.text, blocks: message.blocks }, null, 2);
    case "email":
      return `Subject: ${message.subject}\n\n${message.text}`;
    case "http":
      return JSON.stringify(message.body, null, 2);
    case "none":
      return message.title;
  }
}

export type SourceChoice = { source: Source } | { refused: string };

/**
 * The source a payload is for: the one named, else the first whose platform's envelope the
 * payload has (Socialboards: EventType or Events; Sonar: action). `flag` is how the user names
 * one (`--source`, or `source:` in a route test), for the message when it cannot be told.
 */
export function sourceForPayload(
  sources: ReadonlyMap<string, Source>,
  payload: unknown,
  requested: string | undefined,
  flag: string,
): SourceChoice {
  const ids = [...sources.keys()];
  if (requested !== undefined) {
    const source = sources.get(requested);
    if (source) return { source };
    const guess = closestName(requested, ids);
    return {
      refused: `no source "${requested}" in the config${guess ? ` — did you mean "${guess}"?` : ` (sources: ${ids.join(", ")})`}`,
    };
  }
  const body = payload !== null && typeof payload === "object" && !Array.isArray(payload) ? payload : {};
  const type = "EventType" in body || "Events" in body ? "socialboards" : "action" in body ? "sonar" : undefined;
  if (type === undefined) {
    return {
      refused: `cannot tell which source this payload is for (it has neither Socialboards' EventType and Events nor Sonar's action): name one with ${flag} (sources: ${ids.join(", ")})`,
    };
  }
  const source = [...sources.values()].find((candidate) => candidate.type === type);
  if (source) return { source };
  return { refused: `this looks like a ${type} payload, and the config has no ${type} source: name one with ${flag}` };
}

/** A JSON file's content, or why it could not be read. */
export async function readJsonFile(file: string): Promise<{ json: unknown } | { unreadable: string }> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return { unreadable: `${file}: ${code === "ENOENT" ? "file not found" : (error as Error).message}` };
  }
  try {
    return { json: JSON.parse(text) };
  } catch (error) {
    return { unreadable: `${file}: not JSON (${(error as Error).message})` };
  }
}
