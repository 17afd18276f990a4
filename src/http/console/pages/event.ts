import { targetTypesOf, ticketOf } from "../../../commands/events/story-lines.js";
import { counted } from "../../../commands/output.js";
import type { ReplayPlan } from "../../../history/replay.js";
import type { WebhookStory } from "../../../history/story.js";
import { HttpError } from "../../body.js";
import { type ConsolePage, consoleOf, logAction, redirectDone, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import { csrfField } from "../layout.js";
import {
  eventTypeHtml,
  historyOffHtml,
  routeDecisionsTable,
  stateBadge,
  stepsHtml,
  ticketLink,
  ticketLinks,
  timeHtml,
} from "../story-html.js";

type ShownStory = WebhookStory & { body?: unknown; failedEvents?: unknown[] };

/**
 * One webhook's page (`/console/events/:receiptId`): its whole story as `events show` tells it
 * (each route's decision and reason, each delivery's steps with the far side's answers, where
 * it went), its body when kept, and Replay, which queues its deliveries again as
 * `events replay RECEIPT_ID` does.
 */
export const eventPage: ConsolePage = {
  add(router) {
    router.get("/events/:receiptId", async (ctx) => {
      const { deps } = consoleOf(ctx);
      if (!deps.history) {
        renderPage(ctx, { title: "Webhook", current: "/console/events", body: historyOffHtml() });
        return;
      }
      const { receiptId } = ctx.params as { receiptId: string };
      const story = await deps.history.reader.show(receiptId);
      if (!story) throw new HttpError(404, notInHistory(receiptId));
      const plan = await deps.history.replays.plan({ receipts: [receiptId] });
      const { config } = deps.parts();
      const body = storyHtml(story, plan, consoleOf(ctx).csrf, {
        types: targetTypesOf(config),
        bodies: config.history.bodies,
      });
      renderPage(ctx, { title: `Webhook ${receiptId}`, current: "/console/events", body });
    });

    router.post("/events/:receiptId/replay", async (ctx) => {
      const { deps } = consoleOf(ctx);
      if (!deps.history)
        throw new HttpError(404, "the history is off (history.enabled: false): nothing to replay from");
      const { receiptId } = ctx.params as { receiptId: string };
      const [known] = await deps.history.reader.stories([receiptId]);
      if (!known) throw new HttpError(404, notInHistory(receiptId));
      // The same plan and replay as `events replay RECEIPT_ID` and POST /admin/events/replay.
      const plan = await deps.history.replays.plan({ receipts: [receiptId] });
      const result =
        plan.replays.length > 0
          ? await deps.history.replays.replay(plan, "console")
          : { replayed: 0, cannot: plan.cannot };
      logAction(ctx, "replay", {
        receipt: receiptId,
        replayed: result.replayed,
        deliveries: plan.replays.map((replay) => replay.delivery),
        cannot: result.cannot,
      });
      const said = [`Replay queued ${deliveries(result.replayed)}.`];
      if (result.cannot.length > 0) {
        said.push(
          `Could not queue ${result.cannot.length}: ${result.cannot
            .map((cannot) => `${cannot.delivery ?? cannot.receipt}: ${cannot.why}`)
            .join("; ")}.`,
        );
      }
      // A replay to a disabled target only makes the same dead letter again.
      const targets = new Set(plan.replays.map((replay) => replay.target));
      for (const [target, off] of await deps.disabledTargets.list()) {
        if (targets.has(target)) said.push(`Target ${target} is disabled (${off.reason}): enable it on the overview.`);
      }
      redirectDone(ctx, `/console/events/${encodeURIComponent(receiptId)}`, said.join(" "));
    });
  },
  css: `
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .25rem 1rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
section.delivery, section.event { border: 1px solid var(--line); border-radius: 8px; padding: .5rem .75rem; margin: 0 0 .75rem; }
section.delivery h3, section.event h3 { margin: 0 0 .25rem; font-size: 1rem; }
.replay { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; }
.replay button:disabled { opacity: .5; cursor: not-allowed; }
.replay ul { margin: 0; padding-left: 1.2rem; }
`,
};

/** Said for a receipt id the history has no record of. */
export function notInHistory(id: string): string {
  return `No webhook "${id}" in the history: never accepted, older than history.maxAge, past history.maxWebhooks, or its ticket forgotten.`;
}

function storyHtml(
  story: ShownStory,
  plan: ReplayPlan,
  csrf: string,
  { types, bodies }: { types: ReturnType<typeof targetTypesOf>; bodies: string },
): Html {
  const { webhook } = story;
  const now = Date.now();
  return html`<dl class="facts">
  <dt>Received</dt><dd>${timeHtml(webhook.receivedAt, now)}</dd>
  <dt>Source</dt><dd>${webhook.source}</dd>
  <dt>Receipt id</dt><dd><code>${webhook.id}</code></dd>
  <dt>Ticket</dt><dd>${ticketLinks(story)}</dd>
  ${
    story.duplicates > 0
      ? html`<dt>Came again</dt><dd>${counted(story.duplicates, "time")}, answered <code>{"duplicate": true}</code></dd>`
      : ""
  }
</dl>
${replayForm(webhook.id, plan, csrf)}
<h2>Events</h2>
${webhook.events.map(
  (event, index) => html`<section class="event" aria-label="Event ${index}">
  <h3>Event ${index}: ${eventTypeHtml(event)}${ticketOf(event) ? html`, ticket ${ticketLink(ticketOf(event) ?? "")}` : ""}</h3>
  ${routeDecisionsTable(event)}
</section>`,
)}
${webhook.moreEvents ? html`<p class="muted">And ${counted(webhook.moreEvents, "more event")}, routed but not recorded.</p>` : ""}
<h2>Deliveries</h2>
${story.deliveries.length === 0 ? html`<p>None: no route took any of its events (each route's reason is above).</p>` : ""}
${story.deliveries.map(
  (delivery) => html`<section class="delivery" aria-label="Delivery to ${delivery.target}">
  <h3><span class="mono">${delivery.target}</span> ${stateBadge(delivery)}</h3>
  <p class="muted">by route ${delivery.route || "(a fallback)"}${
    delivery.event >= 0 ? `, event ${delivery.event}` : ""
  }, delivery <code>${delivery.id}</code></p>
  ${stepsHtml(delivery, webhook.receivedAt, types, now)}
</section>`,
)}
<h2>Payload</h2>
${payloadHtml(story, bodies)}`;
}

/** Replay, saying first what it would queue and what it cannot, and why. */
function replayForm(receiptId: string, plan: ReplayPlan, csrf: string): Html {
  const n = plan.replays.length;
  const question = `Replay ${deliveries(n)} of this webhook?`;
  return html`<form class="replay" method="post" action="/console/events/${encodeURIComponent(receiptId)}/replay" data-confirm="${question}">
  ${csrfField(csrf)}
  <button type="submit"${n === 0 ? html` disabled` : ""}>Replay</button>
  <div>
    ${
      n === 0
        ? html`<span class="muted">Nothing to replay.</span>`
        : html`Would queue ${deliveries(n)}:
    <ul>${plan.replays.map((replay) => html`<li><span class="mono">${replay.target}</span> (${replay.how})</li>`)}</ul>`
    }
    ${
      plan.cannot.length > 0
        ? html`<span class="muted">Cannot replay:</span>
    <ul>${plan.cannot.map(
      (cannot) => html`<li><span class="mono">${cannot.delivery ?? cannot.receipt}</span>: ${cannot.why}</li>`,
    )}</ul>`
        : ""
    }
  </div>
</form>`;
}

/** The body the history kept (history.bodies), as indented JSON; or why there is none. */
function payloadHtml(story: ShownStory, bodies: string): Html {
  const parts: Html[] = [];
  if (story.body !== undefined) parts.push(html`<pre>${pretty(story.body)}</pre>`);
  if (story.failedEvents && story.failedEvents.length > 0) {
    parts.push(html`<h3>Kept for a replay: ${counted(story.failedEvents.length, "event")} of a delivery that failed a try</h3>
${story.failedEvents.map((event) => html`<pre>${pretty(event)}</pre>`)}`);
  }
  if (parts.length > 0) return html`${parts}`;
  const why =
    bodies === "none"
      ? "history.bodies is none: no body is kept"
      : bodies === "failures"
        ? "history.bodies is failures: only the events of failed deliveries are kept"
        : "it was received before history.bodies was all, or its ticket was forgotten";
  return html`<p class="muted">Not kept (${why}).</p>`;
}

function deliveries(n: number): string {
  return n === 1 ? "1 delivery" : `${n} deliveries`;
}

function pretty(value: unknown): string {
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}
