import type { Config } from "../../config/schema.js";
import type { Answer, DeliveryStep, EventRecord, RouteReason, Where } from "../../history/records.js";
import type { DeliveryStory, WebhookStory } from "../../history/story.js";
import { age, oneLine } from "../output.js";

/**
 * How the `events` and `ticket` commands say a webhook's story in lines of text: the same words
 * for a delivery's outcome in the list, the ticket's timeline, `events show` and `events tail`.
 * Times are UTC (ISO 8601), as `dlq` prints them, so that two people in two time zones read
 * the same line.
 */

/** A step's or a webhook's time: `2026-11-25T18:50:25.277Z`. */
export function clock(time: number | string): string {
  return new Date(time).toISOString();
}

/** `2026-11-25T18:50:25.277Z (3m12s ago)`. */
export function clockAndAge(time: number | string, now = Date.now()): string {
  const iso = clock(time);
  return `${iso} (${age(iso, now)} ago)`;
}

/** A target's type by id, to name what a failed try's answer is (an HTTP status or an SMTP code). */
export type TargetTypes = (target: string) => string | undefined;

export function targetTypesOf(config: Config): TargetTypes {
  return (target) => config.targets[target]?.type;
}

/** `support-slack delivered, crm retrying`; `no route`; `×2 duplicate`: one webhook's outcomes on one line. */
export function outcomesLine(story: WebhookStory): string {
  // A webhook of many events has many deliveries to one target: `crm delivered ×3`.
  const counts = new Map<string, number>();
  for (const delivery of story.deliveries) {
    const part = `${delivery.target} ${stateWord(delivery)}`;
    counts.set(part, (counts.get(part) ?? 0) + 1);
  }
  const parts = story.noRoute ? ["no route"] : [...counts].map(([part, n]) => (n > 1 ? `${part} ×${n}` : part));
  if (story.duplicates > 0) parts.push(`×${story.duplicates} duplicate`);
  return parts.join(", ");
}

/** What a delivery's state is called in a line: the `--outcome` word, `dead letter` for `dead`. */
export function stateWord(delivery: DeliveryStory): string {
  return delivery.state === "dead" ? "dead letter" : delivery.state;
}

/** The events' types, each with its status change: `ticket_status_change open → pending`. */
export function eventsLine(events: readonly EventRecord[], more = 0): string {
  const each = events.map((event) => [event.type, statusChange(event)].filter(Boolean).join(" "));
  const shown = each.length > 3 ? [...each.slice(0, 3), `… ${each.length - 3} more`] : each;
  return [...shown, ...(more > 0 ? [`+${more} not recorded`] : [])].join(", ");
}

/** `open → pending` for a status change, "" for any other event (a creation's status is no change). */
export function statusChange(event: EventRecord): string {
  if (event.previousStatus === undefined) return "";
  return `${event.previousStatus} → ${event.status ?? "?"}`;
}

/** The ticket (or chat, or SMS customer) an event is about. */
export function ticketOf(event: EventRecord): string | undefined {
  return event.ticketId ?? event.conversationId;
}

/** The tickets of a webhook's events, once each. */
export function ticketsOf(story: WebhookStory): string[] {
  return [...new Set(story.webhook.events.map(ticketOf).filter((ticket) => ticket !== undefined))];
}

/** One route's decision: `matched → support-slack, crm`; `unmet: status is "pending", wanted "closed"`. */
export function routeLine(reason: RouteReason): string {
  if (reason.decision === "matched") return `matched → ${(reason.to ?? []).join(", ")}`;
  const word = reason.decision === "notTried" ? "not tried" : reason.decision;
  return `${word}: ${reason.why ?? "-"}`;
}

/** Why no route took an event: `no route: pending-to-slack: previousStatus is "new", wanted "open"; …`. */
export function noRouteLine(event: EventRecord): string {
  const matched = event.routes.filter((reason) => reason.decision === "matched");
  if (matched.length > 0) {
    return `no delivery queued, though ${matched.map((reason) => `${reason.route} ${routeLine(reason)}`).join("; ")}`;
  }
  const reasons = event.routes.map((reason) => `${reason.route}: ${reason.why ?? reason.decision}`);
  return reasons.length === 0 ? "no route: the config has no routes" : `no route: ${reasons.join("; ")}`;
}

/**
 * Where a delivery stands and why, from its latest steps: what the ticket's timeline says under
 * each webhook. `delivered on try 2 in 41 ms: HTTP 200`, `retrying: try 1 failed …; next try at …`.
 */
export function outcomeWhy(delivery: DeliveryStory, types: TargetTypes, now = Date.now()): string {
  const last = delivery.steps.at(-1);
  if (!last) {
    return delivery.state === "held"
      ? "held: queued behind an earlier delivery of its ticket to the same target"
      : "queued: not tried yet";
  }
  const lastFailed = delivery.steps.findLast((step) => step.kind === "failed");
  const failedText = lastFailed ? stepText(lastFailed, delivery.target, types, now) : undefined;
  switch (last.kind) {
    case "retrying":
      return `retrying: ${failedText ?? "a try failed"}; next try at ${clock(last.next)}${inTime(last.next, now)}`;
    case "dead": {
      // Tries since its last replay, which started them again.
      const run = delivery.steps.slice(delivery.steps.findLastIndex((step) => step.kind === "replayed") + 1);
      const tries = run.filter((step) => step.kind === "failed").length;
      const after = tries === 0 ? "" : ` after ${tries === 1 ? "1 try" : `${tries} tries`}`;
      return `dead letter${after}: ${last.failure}${last.fallback ? `; sent to its fallback ${last.fallback}` : ""}`;
    }
    case "delivered": {
      // Tries that failed before it: why it came late. The link says channel and thread.
      const run = delivery.steps.slice(delivery.steps.findLastIndex((step) => step.kind === "replayed") + 1);
      const failed = run.flatMap((step) =>
        step.kind === "failed"
          ? [`try ${step.try}: ${step.answer ? answerText(step.answer, types(delivery.target)) : step.failure}`]
          : [],
      );
      const before = failed.length > 0 ? ` (${failed.join("; ")})` : "";
      return `delivered on try ${last.try}${before} in ${last.ms} ms: ${last.where ? whereText(last.where, "short") : last.detail}`;
    }
    default:
      return stepText(last, delivery.target, types, now);
  }
}

/** One step in words, without its time: a line of `events show` and `events tail`. */
export function stepText(step: DeliveryStep, target: string, types: TargetTypes, now = Date.now()): string {
  switch (step.kind) {
    case "held":
      return `held by ${step.by} until ${clock(step.until)}${inTime(step.until, now)}: ${step.why}`;
    case "delivered":
      return `delivered on try ${step.try} in ${step.ms} ms: ${step.where ? whereText(step.where) : step.detail}`;
    case "alreadySent":
      return `already sent by an earlier run: ${step.detail}`;
    case "digested":
      return `digested: ${step.detail}`;
    case "dropped":
      return `dropped by ${step.by}: ${step.why}`;
    case "failed": {
      const answer = step.answer ? answerText(step.answer, types(target)) : "";
      return `try ${step.try} failed in ${step.ms} ms: ${step.failure}${answer ? ` (${answer})` : ""}`;
    }
    case "retrying":
      return `retrying: next try at ${clock(step.next)}${inTime(step.next, now)}`;
    case "dead":
      return `dead letter: ${step.failure}${step.fallback ? `; sent to its fallback ${step.fallback}` : ""}`;
    case "replayed":
      return `queued again by ${step.from}${step.of ? `, as a new delivery of ${step.of}` : ""}`;
  }
}

/** A failed try's answer excerpt, on a line of its own under the step; undefined when it has none. */
export function excerptOf(step: DeliveryStep): string | undefined {
  if (step.kind !== "failed" || !step.answer?.excerpt) return undefined;
  const excerpt = oneLine(step.answer.excerpt, 1100);
  // Most failures quote the start of the answer already.
  return step.failure.includes(excerpt) ? undefined : `answered: ${excerpt}`;
}

/**
 * Where a delivered message is: `Slack C0123 ts 1700000000.000100 https://…`, `Message-ID <…>`,
 * `HTTP 200`; `short` gives a Slack message by its link alone, when it has one.
 */
export function whereText(where: Where, length: "full" | "short" = "full"): string {
  const parts: string[] = [];
  if (where.slack) {
    const { channel, ts, threadTs, permalink } = where.slack;
    if (length === "short" && permalink) parts.push(`Slack ${permalink}`);
    else {
      parts.push(`Slack ${channel} ts ${ts}`);
      if (threadTs && threadTs !== ts) parts.push(`in the thread of ${threadTs}`);
      if (permalink) parts.push(permalink);
    }
  }
  if (where.messageId) parts.push(`Message-ID ${where.messageId}`);
  if (where.status !== undefined) parts.push(`HTTP ${where.status}`);
  return parts.join(" ");
}

/** What the far side answered, named as its protocol names it: `HTTP 503`, `SMTP 550`, `Slack error not_in_channel`. */
export function answerText(answer: Answer, targetType: string | undefined): string {
  const parts: string[] = [];
  if (answer.status !== undefined) {
    const protocol = targetType === "email" ? "SMTP" : targetType === undefined ? "status" : "HTTP";
    parts.push(`${protocol} ${answer.status}`);
  }
  if (answer.code !== undefined) parts.push(targetType === "slack" ? `Slack error ${answer.code}` : answer.code);
  return parts.join(", ");
}

/** ` (in 2m10s)` for a time still to come, "" for one past. */
function inTime(ms: number, now: number): string {
  return ms > now ? ` (in ${age(new Date(now).toISOString(), ms)})` : "";
}
