import type { Config } from "../../src/config/schema.js";
import type { RelayEvent } from "../../src/events.js";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryRecorder } from "../../src/history/recorder.js";
import type { Answer, DeliveryStep, Where } from "../../src/history/records.js";
import { webhookRecord } from "../../src/history/webhook-record.js";
import { newReceiptId } from "../../src/http/receipt-id.js";
import type { Logger } from "../../src/log.js";
import { deliveryJobId } from "../../src/queue/jobs.js";
import type { RedisClient } from "../../src/redis/connector.js";
import { buildParts } from "../../src/relay-parts.js";
import { deliveriesOf } from "../../src/routing/router.js";
import { aboutTicket, replyCreation, statusChange } from "../../test/support/ticket-events.js";

/** A delivery that gave up, as the history recorded it: what a dead letter of the bench is made from. */
export interface DeadDelivery {
  id: string;
  event: RelayEvent;
  target: string;
  route: string;
  failure: string;
  tries: number;
}

export interface RecordedHistory {
  webhooks: number;
  deliveries: number;
  steps: number;
  /** Every ticket's count of webhooks, by ticket id. */
  perTicket: Map<string, number>;
  /** Deliveries that ended dead, oldest first. */
  dead: DeadDelivery[];
  /** When the newest webhook was received (ms). */
  newestMs: number;
}

/** A random number generator of its own seed: two runs record the same history. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const statuses = ["open", "pending", "solved", "closed"];

/**
 * Records `webhooks` webhooks in the history of `config`'s prefix, as a relay that routed and
 * delivered them would have: each one a Socialboards fixture moved to one of `tickets` tickets,
 * received evenly over the `spanMs` before now, normalized by the config's source and routed by
 * its routes (every route's reason kept), then its deliveries' steps, written by the history's
 * own recorder. Most deliveries are delivered; some fail a try first, some are still retrying,
 * some gave up, some are held by a mute or dropped; a note is routed nowhere.
 */
export async function recordHistory(options: {
  redis: RedisClient;
  config: Config;
  logger: Logger;
  webhooks: number;
  tickets: number;
  spanMs: number;
  /** Share of the webhooks that come from the second source. */
  secondSourceShare: number;
  random: () => number;
}): Promise<RecordedHistory> {
  const { redis, config, random } = options;
  const recorder = new HistoryRecorder(redis, historyKeys(config.redis.prefix), config.history, options.logger, {
    paused: false,
  });
  const parts = buildParts(config, { withTargets: false });
  const [firstSource, secondSource] = [...parts.sources.values()];
  if (!firstSource || !secondSource) throw new Error("the bench's config needs two sources");
  const recorded: RecordedHistory = {
    webhooks: 0,
    deliveries: 0,
    steps: 0,
    perTicket: new Map(),
    dead: [],
    newestMs: 0,
  };
  const created = new Set<number>();
  const start = Date.now() - options.spanMs;
  const gap = options.spanMs / options.webhooks;
  let pending: Promise<void>[] = [];
  for (let index = 0; index < options.webhooks; index += 1) {
    const receivedMs = Math.floor(start + index * gap);
    const ticket = 5_000_001 + Math.floor(random() * options.tickets);
    const source = random() < options.secondSourceShare ? secondSource : firstSource;
    const receipt = { id: newReceiptId(receivedMs), source: source.id, receivedAt: new Date(receivedMs).toISOString() };
    const payload = webhookAbout(ticket, created, index, random);
    const events = source.normalize(payload, receipt);
    const decisions = events.map((event) => parts.router.decide(event));
    const deliveries = decisions.flatMap((decided, eventIndex) =>
      deliveriesOf(decided).map(({ targetId, route }) => ({
        id: deliveryJobId(events[eventIndex]?.id ?? "", targetId),
        target: targetId,
        route,
        event: eventIndex,
      })),
    );
    recorder.routed(webhookRecord(receipt, events, decisions, deliveries), () => JSON.stringify(payload));
    recorded.webhooks += 1;
    recorded.deliveries += deliveries.length;
    recorded.perTicket.set(String(ticket), (recorded.perTicket.get(String(ticket)) ?? 0) + 1);
    recorded.newestMs = receivedMs;
    for (const delivery of deliveries) {
      const event = events[delivery.event] as RelayEvent;
      const steps = stepsOf(delivery.target, receivedMs, random);
      for (const { at, step } of steps) {
        pending.push(
          recorder.step(
            receipt.id,
            receipt.receivedAt,
            { at, d: delivery.id, target: delivery.target, route: delivery.route, ...step },
            { id: event.id, json: () => JSON.stringify(event) },
          ),
        );
      }
      recorded.steps += steps.length;
      const last = steps.at(-1)?.step;
      if (last?.kind === "dead") {
        const tries = steps.filter(({ step }) => step.kind === "failed").length;
        recorded.dead.push({ ...delivery, event, failure: last.failure, tries });
      }
    }
    // A thousand webhooks' writes at a time: the recorder gathers them into pipelines of 500.
    if (pending.length >= 2_000) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  return recorded;
}

/** A ticket's first webhook creates it; then replies, status changes, tag changes and notes. */
function webhookAbout(ticket: number, created: Set<number>, index: number, random: () => number): unknown {
  if (!created.has(ticket)) {
    created.add(ticket);
    return aboutTicket("ticket_creation", ticket);
  }
  const draw = random();
  if (draw < 0.6) return replyCreation(ticket, 90_000_000 + index, `Reply ${index}: the parcel has not arrived yet`);
  if (draw < 0.8) {
    const from = statuses[Math.floor(random() * statuses.length)] as string;
    const to = statuses[Math.floor(random() * statuses.length)] as string;
    return statusChange(ticket, from, to);
  }
  if (draw < 0.92) return aboutTicket("ticket_tags_change", ticket);
  return aboutTicket("note_creation", ticket);
}

const failures: Record<"slack" | "http" | "email", { failure: string; answer: Answer }> = {
  slack: { failure: "Slack answered ratelimited", answer: { code: "ratelimited" } },
  http: {
    failure: "HTTP 503 Service Unavailable",
    answer: { status: 503, excerpt: '{"error":"upstream unavailable","retryAfter":30}' },
  },
  email: { failure: "SMTP 451 4.3.0 try again later", answer: { status: 451 } },
};

/** What befell one delivery, step by step: mostly delivered at once. */
function stepsOf(target: string, receivedMs: number, random: () => number): { at: number; step: DeliveryStep }[] {
  const kind = target.includes("slack") ? "slack" : target.includes("mail") ? "email" : "http";
  const { failure, answer } = failures[kind];
  let at = receivedMs + 40 + Math.floor(random() * 200);
  const steps: { at: number; step: DeliveryStep }[] = [];
  const failed = (attempt: number, retried: boolean) => {
    steps.push({ at, step: { kind: "failed", try: attempt, ms: 120 + Math.floor(random() * 400), failure, answer } });
    if (!retried) return;
    const next = at + 2_000 * 2 ** attempt;
    steps.push({ at: at + 1, step: { kind: "retrying", next } });
    at = next;
  };
  const delivered = (attempt: number) =>
    steps.push({
      at,
      step: { kind: "delivered", try: attempt, ms: 30 + Math.floor(random() * 300), ...sentTo(kind, at) },
    });
  const draw = random();
  if (draw < 0.8) delivered(1);
  else if (draw < 0.87) {
    failed(1, true);
    delivered(2);
  } else if (draw < 0.9) failed(1, true);
  else if (draw < 0.93) {
    failed(1, true);
    failed(2, true);
    failed(3, false);
    steps.push({ at, step: { kind: "dead", failure } });
  } else if (draw < 0.97) {
    steps.push({ at, step: { kind: "held", by: "mute", until: at + 3_600_000, why: `target ${target} is muted` } });
  } else if (draw < 0.98) {
    steps.push({ at, step: { kind: "dropped", by: "mute", why: `target ${target} is muted, dropping` } });
  } else delivered(1);
  return steps;
}

/** Where a delivered message went, as each kind of target says it. */
function sentTo(kind: "slack" | "http" | "email", at: number): { detail: string; where: Where } {
  if (kind === "slack") {
    const ts = `${Math.floor(at / 1000)}.${String(at % 1000).padStart(6, "0")}`;
    const permalink = `https://example.slack.com/archives/C0SUPPORT/p${ts.replace(".", "")}`;
    return { detail: `posted to C0SUPPORT at ${ts}`, where: { slack: { channel: "C0SUPPORT", ts, permalink } } };
  }
  if (kind === "email") {
    const messageId = `<${at}@relay.example.com>`;
    return { detail: `accepted by SMTP as ${messageId}`, where: { messageId } };
  }
  return { detail: "HTTP 200", where: { status: 200 } };
}
