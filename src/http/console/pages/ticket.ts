import { type TargetTypes, targetTypesOf } from "../../../commands/events/story-lines.js";
import { counted } from "../../../commands/output.js";
import type { TicketTimeline } from "../../../history/history-reader.js";
import type { WebhookStory } from "../../../history/story.js";
import { firstValue } from "../../../sources/secure-compare.js";
import { type ConsolePage, consoleOf, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import {
  badge,
  eventIndexesOf,
  eventsHtml,
  historyOffHtml,
  noRouteHtml,
  outcomeWhyHtml,
  safeHref,
  timeHtml,
} from "../story-html.js";

/** The history reads a ticket's newest webhooks, this many at most (history-reader.ts). */
const timelineCap = 500;

/**
 * A ticket's page (`/console/tickets/:id`, and `/console/ticket?id=` from the header's search):
 * its timeline across webhooks, oldest first, as `ticket-relay ticket ID` prints it: each
 * webhook with its events, each delivery with how it ended and why, or each route's reason
 * when none took it; the Slack thread's link on top.
 */
export const ticketPage: ConsolePage = {
  add(router) {
    router.get("/ticket", (ctx) => {
      const id = firstValue(ctx.query.id)?.trim();
      if (id) {
        ctx.status = 303;
        ctx.redirect(`/console/tickets/${encodeURIComponent(id)}`);
        return;
      }
      renderPage(ctx, {
        title: "Ticket",
        body: html`<form class="row" method="get" action="/console/ticket">
  <div><label for="ticket-id">Ticket id</label><input id="ticket-id" name="id" required></div>
  <button type="submit">Show its timeline</button>
</form>`,
      });
    });

    router.get("/tickets/:id", async (ctx) => {
      const { deps } = consoleOf(ctx);
      const { id } = ctx.params as { id: string };
      if (!deps.history) {
        renderPage(ctx, { title: `Ticket ${id}`, body: historyOffHtml() });
        return;
      }
      const timeline = await deps.history.reader.ticket(id);
      const { config } = deps.parts();
      const body =
        timeline.webhooks.length === 0
          ? html`<p class="notice">Nothing recorded for ticket ${id} (kept ${keptFor(config.history.maxAge)}): no webhook
about it came, they are older than that, or the ticket was forgotten.</p>`
          : timelineHtml(timeline, targetTypesOf(config));
      renderPage(ctx, { title: `Ticket ${id}`, body });
    });
  },
  css: `
ol.timeline { list-style: none; padding: 0; margin: 0; }
ol.timeline > li { border-left: 3px solid var(--line); padding: .25rem 0 .5rem .75rem; margin: 0 0 .5rem; }
ol.timeline h2 { font-size: 1rem; margin: 0 0 .25rem; font-weight: 500; }
ol.timeline ul { margin: .25rem 0; padding-left: 1.2rem; }
.thread { font-size: 1.05rem; }
`,
};

function timelineHtml(timeline: TicketTimeline, types: TargetTypes): Html {
  const { webhooks, ticket } = timeline;
  const now = Date.now();
  const thread = safeHref(timeline.slackThread);
  const newest = webhooks.length >= timelineCap ? ` (the newest ${timelineCap})` : "";
  return html`<p class="thread">${
    thread
      ? html`<a href="${thread}" rel="noreferrer">Slack thread</a> of this ticket`
      : html`<span class="muted">No Slack message about this ticket was recorded.</span>`
  }</p>
<p class="muted">${counted(webhooks.length, "webhook")}${newest}, oldest first.
<a href="/console/events?ticket=${encodeURIComponent(ticket)}">The same in the events list</a></p>
<ol class="timeline">${webhooks.map((story) => webhookHtml(story, ticket, types, now))}</ol>`;
}

/** One webhook of the timeline: its events about this ticket, and under it what each delivery became, or why none went. */
function webhookHtml(story: WebhookStory, ticket: string, types: TargetTypes, now: number): Html {
  const { webhook } = story;
  const indexes = eventIndexesOf(story, ticket);
  const events = indexes.map((index) => webhook.events[index]).filter((event) => event !== undefined);
  // A fallback's delivery belongs to no event (-1): it went because one of these failed.
  const deliveries = story.deliveries.filter((delivery) => delivery.event < 0 || indexes.includes(delivery.event));
  const unrouted = indexes.flatMap((index) => {
    const event = webhook.events[index];
    return event && !story.deliveries.some((delivery) => delivery.event === index) ? [event] : [];
  });
  return html`<li>
  <h2><a href="/console/events/${encodeURIComponent(webhook.id)}">${timeHtml(webhook.receivedAt, now)}</a>
  ${eventsHtml(events)}${story.duplicates > 0 ? html` ${badge("duplicate", `×${story.duplicates} duplicate`)}` : ""}</h2>
  <ul>
  ${deliveries.map(
    (delivery) =>
      html`<li><span class="mono">${delivery.target}</span> <span class="muted">(${delivery.route || "fallback"})</span>: ${outcomeWhyHtml(
        delivery,
        types,
        now,
      )}</li>`,
  )}
  ${unrouted.map((event) => html`<li>${noRouteHtml(event)}</li>`)}
  </ul>
</li>`;
}

/** `7 days`, `12 hours`: how long the history keeps a webhook. */
function keptFor(ms: number): string {
  if (ms >= 86_400_000) return counted(Math.round(ms / 86_400_000), "day");
  if (ms >= 3_600_000) return counted(Math.round(ms / 3_600_000), "hour");
  return counted(Math.max(1, Math.round(ms / 60_000)), "minute");
}
