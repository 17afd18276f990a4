import type { HistoryReader } from "../../history/history-reader.js";
import type { WebhookStory } from "../../history/story.js";
import { type Command, parseOptions } from "../command.js";
import {
  clock,
  eventsLine,
  excerptOf,
  noRouteLine,
  stepText,
  type TargetTypes,
  targetTypesOf,
  ticketsOf,
} from "./story-lines.js";
import { withHistory } from "./with-history.js";

/** How often the history is read again. */
const pollMs = 1000;
/** A webhook's deliveries are followed this long after it came… */
const followForMs = 10 * 60_000;
/** …and only the newest this many: each poll reads all of their stories again. */
const maxFollowed = 200;
/**
 * A webhook is indexed by the time it was received, but written when it is routed, a moment
 * (or, behind a backlog, longer) later: each poll looks back this far for ones routed since.
 */
const routedLateMs = 30_000;
/** Receipt ids remembered as shown, so the look back never shows one twice. */
const maxSeen = 5000;

export const eventsTail: Command = {
  name: "events tail",
  help: `Usage: ticket-relay events tail [--json] [--config FILE]

Follows the relay's history live until Ctrl-C: one line for each webhook accepted from now on
(time in UTC, receipt id, source, ticket, events, and the targets it goes to, or each route's
reason when no route took it), then one line for each thing that happens to its deliveries:
held, each try (failed, with what the far side answered), retrying, delivered and where, dead
letter. It reads the history every second; a webhook's deliveries are followed for ten
minutes after it came (the newest ${maxFollowed} webhooks), so a retry due later than that is
seen with \`ticket-relay events show RECEIPT_ID\`.
  --json   one JSON object a line: {"type":"webhook","webhook":…} for a new webhook,
           {"type":"step","receipt","delivery","target","route","step"} for each step,
           {"type":"duplicate","receipt","duplicates"} when the same webhook came again`,
  async run(args) {
    const { values } = parseOptions(args, { config: { type: "string" }, json: { type: "boolean" } });
    return withHistory(values.config, async ({ history, config }) => {
      const follower = new HistoryFollower(history.reader, targetTypesOf(config), Boolean(values.json));
      let stopped = false;
      let wake: (() => void) | undefined;
      const stop = () => {
        stopped = true;
        wake?.();
      };
      // Ctrl-C ends the follow, not the process mid-write: the connection is closed, exit 0.
      process.on("SIGINT", stop);
      process.on("SIGTERM", stop);
      if (!values.json) console.error("following new webhooks (Ctrl-C to stop)");
      try {
        while (!stopped) {
          for (const line of await follower.poll()) console.log(line);
          await new Promise<void>((resolve) => {
            const timer = setTimeout(resolve, pollMs);
            wake = () => {
              clearTimeout(timer);
              resolve();
            };
            if (stopped) wake();
          });
        }
      } finally {
        process.off("SIGINT", stop);
        process.off("SIGTERM", stop);
      }
      return 0;
    });
  },
};

interface Followed {
  receivedMs: number;
  /** Whether its own line was printed. */
  shown: boolean;
  /** Steps printed per delivery. */
  steps: Map<string, number>;
  duplicates: number;
}

/** What `events tail` has shown, and the lines each poll adds to it. */
class HistoryFollower {
  readonly #started = Date.now();
  readonly #followed = new Map<string, Followed>();
  readonly #seen = new Set<string>();

  constructor(
    private readonly reader: HistoryReader,
    private readonly types: TargetTypes,
    private readonly json: boolean,
  ) {}

  /** The lines to print for what happened since the last poll, in the order it happened. */
  async poll(): Promise<string[]> {
    await this.#lookForNew();
    this.#forgetOld();
    const ids = [...this.#followed.keys()];
    const stories = await this.reader.stories(ids);
    const lines: { at: number; text: string }[] = [];
    for (const [i, id] of ids.entries()) {
      const story = stories[i];
      const followed = this.#followed.get(id);
      if (!followed) continue;
      if (!story) {
        this.#followed.delete(id); // forgotten, or trimmed
        continue;
      }
      lines.push(...this.#linesOf(story, followed));
    }
    return lines.sort((a, b) => a.at - b.at).map((line) => line.text);
  }

  async #lookForNew(): Promise<void> {
    let after = Math.max(this.#started - 1, Date.now() - routedLateMs);
    for (;;) {
      const page = await this.reader.receivedSince(after);
      for (const { id, score } of page) {
        if (this.#seen.has(id)) continue;
        this.#seen.add(id);
        this.#followed.set(id, { receivedMs: score, shown: false, steps: new Map(), duplicates: 0 });
      }
      const last = page.at(-1);
      // A full page: more came than one read answers; read on from its last.
      if (page.length < 1000 || !last || last.score === after) break;
      after = last.score;
    }
    while (this.#seen.size > maxSeen) this.#seen.delete(this.#seen.values().next().value as string);
  }

  #forgetOld(): void {
    const oldest = Date.now() - followForMs;
    for (const [id, followed] of this.#followed) if (followed.receivedMs < oldest) this.#followed.delete(id);
    const excess = this.#followed.size - maxFollowed;
    if (excess <= 0) return;
    const byAge = [...this.#followed].sort(([, a], [, b]) => a.receivedMs - b.receivedMs);
    for (const [id] of byAge.slice(0, excess)) this.#followed.delete(id);
  }

  #linesOf(story: WebhookStory, followed: Followed): { at: number; text: string }[] {
    const { webhook } = story;
    const lines: { at: number; text: string }[] = [];
    if (!followed.shown) {
      followed.shown = true;
      lines.push({ at: followed.receivedMs, text: this.#webhookLine(story) });
    }
    if (story.duplicates > followed.duplicates) {
      followed.duplicates = story.duplicates;
      const text = this.json
        ? JSON.stringify({ type: "duplicate", receipt: webhook.id, duplicates: story.duplicates })
        : `${clock(Date.now())}  ${webhook.id}  came again, answered {"duplicate": true} (×${story.duplicates})`;
      lines.push({ at: Date.now(), text });
    }
    for (const delivery of story.deliveries) {
      const printed = followed.steps.get(delivery.id) ?? 0;
      for (const step of delivery.steps.slice(printed)) {
        if (this.json) {
          const { id, target, route } = delivery;
          const text = JSON.stringify({ type: "step", receipt: webhook.id, delivery: id, target, route, step });
          lines.push({ at: step.at, text });
          continue;
        }
        const excerpt = excerptOf(step);
        const text = `${clock(step.at)}  ${delivery.id}  ${stepText(step, delivery.target, this.types)}`;
        lines.push({ at: step.at, text: excerpt ? `${text}\n    ${excerpt}` : text });
      }
      followed.steps.set(delivery.id, delivery.steps.length);
    }
    return lines;
  }

  #webhookLine(story: WebhookStory): string {
    const { webhook } = story;
    if (this.json) return JSON.stringify({ type: "webhook", webhook });
    const ticket = ticketsOf(story).join(",");
    const head = [clock(webhook.receivedAt), webhook.id, webhook.source, ticket && `ticket ${ticket}`]
      .filter(Boolean)
      .join("  ");
    const about = eventsLine(webhook.events, webhook.moreEvents);
    if (!story.noRoute) {
      const targets = [...new Set(story.deliveries.map((delivery) => delivery.target))];
      return `${head}  ${about}  for ${targets.join(", ")}`;
    }
    return [`${head}  ${about}`, ...webhook.events.map((event) => `    ${noRouteLine(event)}`)].join("\n");
  }
}
