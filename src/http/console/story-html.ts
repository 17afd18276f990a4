import {
  answerText,
  excerptOf,
  outcomeWhy,
  stateWord,
  statusChange,
  type TargetTypes,
  ticketOf,
  ticketsOf,
} from "../../commands/events/story-lines.js";
import { age } from "../../commands/output.js";
import type { DeliveryStep, EventRecord, RouteReason, Where } from "../../history/records.js";
import type { DeliveryStory, WebhookStory } from "../../history/story.js";
import { type Html, html } from "./html.js";

/**
 * How the console draws a webhook's story (history/story.ts) in HTML: the same words as the
 * `events` and `ticket` commands (commands/events/story-lines.ts), with badges for outcomes and
 * links where a line of text can only print an address. Everything received (ticket text, a
 * failure's answer, a route's reason) goes in through `html`, which escapes it.
 */

/** The badge classes the stylesheet colours (assets.ts); any other word gets a plain badge. */
const badgeClasses = new Set([
  "delivered",
  "retrying",
  "failed",
  "dead",
  "held",
  "dropped",
  "digested",
  "no-route",
  "queued",
  "ok",
  "bad",
]);

/** A badge: `kind` picks its colour, `text` (default the kind) is what it says. */
export function badge(kind: string, text = kind): Html {
  return badgeClasses.has(kind)
    ? html`<span class="badge ${kind}">${text}</span>`
    : html`<span class="badge">${text}</span>`;
}

/** A delivery's state as a badge: `delivered`, `dead letter`, `held` … */
export function stateBadge(delivery: DeliveryStory): Html {
  return badge(delivery.state, stateWord(delivery));
}

/** `2026-11-25T18:50:25Z` in a `<time>` with the exact ms, and how long ago: `(3m12s ago)`. */
export function timeHtml(time: number | string, now = Date.now()): Html {
  const ms = typeof time === "number" ? time : Date.parse(time);
  if (Number.isNaN(ms)) return html`<span class="muted">unknown time</span>`;
  const iso = new Date(ms).toISOString();
  return html`<time datetime="${iso}">${iso.replace(/\.\d{3}Z$/, "Z")}</time> <span class="muted age" data-at="${ms}">${relativeAge(ms, now)}</span>`;
}

/** `3m12s ago`, or `in 2m` for a time still to come. */
export function relativeAge(ms: number, now = Date.now()): string {
  return ms > now ? `in ${age(new Date(now).toISOString(), ms)}` : `${age(new Date(ms).toISOString(), now)} ago`;
}

/** A link to a ticket's page. */
export function ticketLink(ticket: string): Html {
  return html`<a href="/console/tickets/${encodeURIComponent(ticket)}">${ticket}</a>`;
}

/** The tickets of a webhook's events, each a link to its page. */
export function ticketLinks(story: WebhookStory): Html {
  const tickets = ticketsOf(story);
  if (tickets.length === 0) return html`<span class="muted">none</span>`;
  return html`${tickets.map((ticket, i) => html`${i > 0 ? ", " : ""}${ticketLink(ticket)}`)}`;
}

/** An event's type with its status change: `ticket_status_change open → pending`. */
export function eventTypeHtml(event: EventRecord): Html {
  const change = statusChange(event);
  return html`<span class="mono">${event.type}</span>${change ? html` <span class="status-change">${change}</span>` : ""}`;
}

/** A webhook's events, at most three named: `ticket_creation, reply_creation, … 4 more`. */
export function eventsHtml(events: readonly EventRecord[], more = 0): Html {
  const shown = events.slice(0, 3).map((event, i) => html`${i > 0 ? ", " : ""}${eventTypeHtml(event)}`);
  const rest = events.length - shown.length;
  return html`${shown}${rest > 0 ? html`, <span class="muted">… ${rest} more</span>` : ""}${
    more > 0 ? html` <span class="muted">+${more} not recorded</span>` : ""
  }`;
}

/**
 * A webhook's outcomes on one line: each target with its delivery's badge (`crm delivered ×3`
 * for a webhook of many events), `no route`, and how often it came again.
 */
export function outcomeBadges(story: WebhookStory): Html {
  const counts = new Map<string, { delivery: DeliveryStory; n: number }>();
  for (const delivery of story.deliveries) {
    const key = `${delivery.target}\n${delivery.state}`;
    const seen = counts.get(key);
    if (seen) seen.n += 1;
    else counts.set(key, { delivery, n: 1 });
  }
  const parts = [...counts.values()].map(
    ({ delivery, n }) =>
      html`<span class="outcome">${delivery.target} ${stateBadge(delivery)}${n > 1 ? html` ×${n}` : ""}</span>`,
  );
  if (story.noRoute) parts.push(badge("no-route", "no route"));
  if (story.duplicates > 0) parts.push(badge("duplicate", `×${story.duplicates} duplicate`));
  return html`<span class="outcomes">${parts}</span>`;
}

/** A route's decision about one event as a badge, and its reason or targets. */
export function routeDecisionHtml(reason: RouteReason): Html {
  if (reason.decision === "matched") {
    return html`${badge("ok", "matched")} → ${(reason.to ?? []).join(", ")}`;
  }
  const word = reason.decision === "notTried" ? "not tried" : reason.decision;
  const kind = reason.decision === "muted" || reason.decision === "inactive" ? "held" : "none";
  return html`${badge(kind, word)} ${reason.why ?? ""}`;
}

/** What each route made of one event, in the routes' order: a table with the reason of each. */
export function routeDecisionsTable(event: EventRecord): Html {
  if (event.routes.length === 0) return html`<p class="muted">The config has no routes.</p>`;
  return html`<div class="table-wrap"><table class="routes">
<thead><tr><th scope="col">Route</th><th scope="col">Decision</th></tr></thead>
<tbody>${event.routes.map(
    (reason) => html`<tr><td class="mono">${reason.route}</td><td>${routeDecisionHtml(reason)}</td></tr>`,
  )}</tbody>
</table></div>`;
}

/** Why no route took an event: each route's reason, or the matched ones that queued nothing. */
export function noRouteHtml(event: EventRecord): Html {
  if (event.routes.length === 0) return html`${badge("no-route", "no route")} the config has no routes`;
  const matched = event.routes.filter((reason) => reason.decision === "matched");
  const reasons = matched.length > 0 ? matched : event.routes;
  return html`${badge("no-route", matched.length > 0 ? "nothing queued" : "no route")}
<ul class="reasons">${reasons.map(
    (reason) => html`<li><span class="mono">${reason.route}</span>: ${routeDecisionHtml(reason)}</li>`,
  )}</ul>`;
}

/**
 * A delivery's steps, oldest first: when (and how long after the webhook came), what happened,
 * and for a failed try what the far side answered, quoted from its answer.
 */
export function stepsHtml(delivery: DeliveryStory, receivedAt: string, types: TargetTypes, now = Date.now()): Html {
  if (delivery.steps.length === 0) {
    return html`<p class="muted">${
      delivery.state === "held"
        ? "Queued behind an earlier delivery of its ticket to the same target."
        : "Queued, not tried yet."
    }</p>`;
  }
  const received = Date.parse(receivedAt);
  return html`<ol class="steps">${delivery.steps.map((step) => {
    // Shown when the failure's text does not quote it already; as it came, line breaks and all.
    const excerpt = excerptOf(step) && step.kind === "failed" ? step.answer?.excerpt : undefined;
    return html`<li><time datetime="${new Date(step.at).toISOString()}">${clockOf(step.at)}</time> <span class="muted">+${sinceReceived(received, step.at)}</span>
  ${stepHtml(step, delivery.target, types, now)}${excerpt ? html`<pre class="excerpt">${excerpt}</pre>` : ""}</li>`;
  })}</ol>`;
}

/** One step in words, with a badge for its kind. */
export function stepHtml(step: DeliveryStep, target: string, types: TargetTypes, now = Date.now()): Html {
  switch (step.kind) {
    case "held":
      return html`${badge("held", `held by ${step.by}`)} until ${timeHtml(step.until, now)}: ${step.why}`;
    case "delivered":
      return html`${badge("delivered")} on try ${step.try} in ${step.ms} ms${
        step.where ? html`: ${whereHtml(step.where)}` : step.detail ? html`: ${step.detail}` : ""
      }`;
    case "alreadySent":
      return html`${badge("delivered", "already sent")} by an earlier run: ${step.detail}`;
    case "digested":
      return html`${badge("digested")} ${step.detail}`;
    case "dropped":
      return html`${badge("dropped", `dropped by ${step.by}`)} ${step.why}`;
    case "failed": {
      const answer = step.answer ? answerText(step.answer, types(target)) : "";
      return html`${badge("failed", `try ${step.try} failed`)} in ${step.ms} ms${
        answer ? html`: <strong>${answer}</strong>` : ""
      } — ${step.failure}`;
    }
    case "retrying":
      return html`${badge("retrying")} next try at ${timeHtml(step.next, now)}`;
    case "dead":
      return html`${badge("dead", "dead letter")} ${step.failure}${
        step.fallback ? html`; sent to its fallback <span class="mono">${step.fallback}</span>` : ""
      } <a href="/console/dead-letters">Dead letters</a>`;
    case "replayed":
      return html`${badge("queued", "replayed")} queued again from ${step.from}${
        step.of ? html`, as a new delivery of <span class="mono">${step.of}</span>` : ""
      }`;
  }
}

/** Where a delivered message is: a link to the Slack message, the email's Message-ID, the HTTP status. */
export function whereHtml(where: Where): Html {
  const parts: Html[] = [];
  if (where.slack) {
    const { channel, ts, threadTs, permalink } = where.slack;
    const link = safeHref(permalink);
    const thread = threadTs && threadTs !== ts ? html`, in the thread of ${threadTs}` : "";
    parts.push(
      link
        ? html`<a class="slack-link" href="${link}" rel="noreferrer">Slack message</a> <span class="muted">(${channel}, ts ${ts}${thread})</span>`
        : html`Slack message in ${channel}, ts ${ts}${thread}`,
    );
  }
  if (where.messageId) parts.push(html`Message-ID <code>${where.messageId}</code>`);
  if (where.status !== undefined) parts.push(html`HTTP ${where.status}`);
  return html`${parts.map((part, i) => html`${i > 0 ? ", " : ""}${part}`)}`;
}

/**
 * Where a delivery stands and why, in one line of the ticket's timeline: as `ticket ID` says
 * it, with the Slack message as a link.
 */
export function outcomeWhyHtml(delivery: DeliveryStory, types: TargetTypes, now = Date.now()): Html {
  const last = delivery.steps.at(-1);
  if (last?.kind !== "delivered") {
    // The badge says the state: `dead letter after 2 tries: …` reads `[dead letter] after 2 tries: …`.
    const why = outcomeWhy(delivery, types, now);
    const word = stateWord(delivery);
    return html`${stateBadge(delivery)} ${why.startsWith(word) ? why.slice(word.length).replace(/^:/, "").trim() : why}`;
  }
  // Tries that failed since its last replay: why it came late.
  const run = delivery.steps.slice(delivery.steps.findLastIndex((step) => step.kind === "replayed") + 1);
  const failed = run.flatMap((step) =>
    step.kind === "failed"
      ? [`try ${step.try}: ${step.answer ? answerText(step.answer, types(delivery.target)) : step.failure}`]
      : [],
  );
  return html`${stateBadge(delivery)} on try ${last.try}${failed.length > 0 ? ` (${failed.join("; ")})` : ""} in ${
    last.ms
  } ms${last.where ? html`: ${whereHtml(last.where)}` : last.detail ? `: ${last.detail}` : ""}`;
}

/** The events of a webhook about one ticket, by their index in the webhook. */
export function eventIndexesOf(story: WebhookStory, ticket: string): number[] {
  return story.webhook.events.flatMap((event, index) => (ticketOf(event) === ticket ? [index] : []));
}

/** Said on every page of the history while it is off. */
export function historyOffHtml(): Html {
  return html`<p class="notice">The history is off (<code>history.enabled: false</code> in the config), so the relay
keeps no record of webhooks and deliveries. Set <code>history.enabled: true</code> and restart the relay to see
what happens to each webhook here.</p>`;
}

/** Only a web address can be a link: a `javascript:` or `data:` address from a far side never is. */
export function safeHref(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    const parsed = new URL(url);
    return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : undefined;
  } catch {
    return undefined;
  }
}

/** `18:50:25.277Z`: a step's time of day, its date being the webhook's. */
function clockOf(ms: number): string {
  return new Date(ms).toISOString().slice(11);
}

/** Time since the webhook came: `0.042s`, `12.5s`, past a minute `3m12s`. */
function sinceReceived(received: number, at: number): string {
  const ms = Math.max(0, at - received);
  if (Number.isNaN(ms)) return "?";
  if (ms >= 60_000) return age(new Date(received).toISOString(), at);
  return ms < 10_000 ? `${(ms / 1000).toFixed(3)}s` : `${(ms / 1000).toFixed(1)}s`;
}

/** The page's own stylesheet lines for stories. */
export const storyCss = `
.outcomes { display: flex; flex-wrap: wrap; gap: .25rem .6rem; }
.outcome { white-space: nowrap; }
.status-change { white-space: nowrap; }
.reasons { margin: .25rem 0; padding-left: 1.2rem; }
pre.excerpt { margin: .25rem 0 .25rem 1rem; padding: .4rem .6rem; font-size: .82em; }
.steps time { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
`;
