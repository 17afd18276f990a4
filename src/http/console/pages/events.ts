import type Koa from "koa";
import { durationPattern, parseDuration } from "../../../config/duration.js";
import type { Config } from "../../../config/schema.js";
import { type EventsFilter, InvalidCursor } from "../../../history/history-reader.js";
import { type Outcome, outcomes } from "../../../history/records.js";
import type { WebhookStory } from "../../../history/story.js";
import { eventTypesBySourceType } from "../../../sources/registry.js";
import { firstValue } from "../../../sources/secure-compare.js";
import { HttpError } from "../../body.js";
import { type ConsolePage, consoleOf, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import { eventsHtml, historyOffHtml, outcomeBadges, storyCss, ticketLinks, timeHtml } from "../story-html.js";

/** Webhooks on one page of the list: one read of the history, quick with 100,000 kept. */
const pageLimit = 50;
/** The ages the time filter offers; "" is any age. */
const sinceChoices = ["15m", "1h", "6h", "1d", "7d"] as const;
const filterFields = ["ticket", "source", "type", "target", "outcome", "since"] as const;
type FilterField = (typeof filterFields)[number];
/** The filters as the form has them, as text, for the form itself and the links that keep them. */
type FilterForm = Partial<Record<FilterField, string>>;

/**
 * The Events page (`/console/events`): the newest webhooks with what became of each delivery,
 * narrowed by ticket, source, type, target, outcome and age (a GET form: a filtered list is a
 * link one can send), older pages by cursor. With JavaScript, "Live" asks `/console/events/rows`
 * every 2 s for what came since and puts it on top; without, the page works as it is.
 */
export const eventsPage: ConsolePage = {
  add(router) {
    router.get("/events", async (ctx) => {
      const { deps } = consoleOf(ctx);
      if (!deps.history) {
        renderPage(ctx, { title: "Events", current: "/console/events", body: historyOffHtml() });
        return;
      }
      const { filter, form } = filterOf(ctx.query);
      const cursor = firstValue(ctx.query.cursor) || undefined;
      const page = await listOrBadCursor(deps.history.reader.list({ ...filter, cursor, limit: pageLimit }));
      const now = Date.now();
      const { config } = deps.parts();
      const newest = page.webhooks[0] ? Date.parse(page.webhooks[0].webhook.receivedAt) : now;
      const filtered = filterFields.some((field) => form[field]);
      const body = html`${filtersForm(form, config.sources, Object.keys(config.targets))}
${cursor ? "" : liveToggle()}
<div class="table-wrap"><table class="events">
<thead><tr><th scope="col">Received</th><th scope="col" class="hide-narrow">Source</th><th scope="col">Ticket</th><th scope="col">Events</th><th scope="col">Deliveries</th></tr></thead>
<tbody id="event-rows" data-newest="${newest}">
${page.webhooks.map((story) => eventRow(story, now))}
${
  page.webhooks.length === 0
    ? html`<tr class="empty"><td colspan="5">${
        filtered
          ? "No webhook matches these filters."
          : "No webhook recorded yet: each webhook the relay accepts appears here."
      }</td></tr>`
    : ""
}
</tbody>
</table></div>
<nav class="pages" aria-label="Pages">
${cursor ? html`<a href="/console/events${queryOf(form)}">Newest</a>` : ""}
${page.next ? html`<a rel="next" href="/console/events${queryOf(form, { cursor: page.next })}">Older</a>` : ""}
</nav>`;
      renderPage(ctx, { title: "Events", current: "/console/events", body });
    });

    // Live mode: the rows received after `after` (ms), newest first, drawn as on the page.
    router.get("/events/rows", async (ctx) => {
      const { deps } = consoleOf(ctx);
      if (!deps.history) {
        ctx.status = 404;
        ctx.body = { error: "the history is off (history.enabled: false)" };
        return;
      }
      const after = Number(firstValue(ctx.query.after));
      if (!Number.isInteger(after) || after < 0) throw new HttpError(400, "after is a time in ms since 1970");
      const { filter } = filterOf(ctx.query);
      // Only the index's newest entries are read: `since` reaches back to `after`, and a second more
      // for the clocks' difference; the rest is cut to exactly after `after`.
      const window = Date.now() - after + 1000;
      const page = await deps.history.reader.list({
        ...filter,
        since: Math.min(filter.since ?? window, window),
        limit: pageLimit,
      });
      const now = Date.now();
      const webhooks = page.webhooks.filter((story) => Date.parse(story.webhook.receivedAt) > after);
      const newest = webhooks[0] ? Date.parse(webhooks[0].webhook.receivedAt) : undefined;
      ctx.body = {
        rows: html`${webhooks.map((story) => eventRow(story, now))}`.text,
        ids: webhooks.map((story) => story.webhook.id),
        ...(newest !== undefined && { newest }),
      };
    });
  },
  css: `${storyCss}
.events time { white-space: nowrap; }
@media (max-width: 640px) {
  .events thead { position: absolute; left: -9999px; }
  .events tr { display: block; padding: .35rem 0; border-bottom: 1px solid var(--line); }
  .events td { display: block; border: 0; padding: .1rem .3rem; }
  .events td.hide-narrow { display: none; }
}
.events tr.fresh { animation: fresh 2s ease-out; }
@keyframes fresh { from { background: var(--panel); } to { background: transparent; } }
.filters > div { display: flex; flex-direction: column; }
.filters input { width: 9rem; }
.live[hidden] { display: none; }
.live { display: flex; gap: .75rem; align-items: center; margin: 0 0 .5rem; }
.live label { display: inline-flex; gap: .35rem; align-items: center; font-size: 1rem; color: var(--fg); }
nav.pages { display: flex; gap: 1rem; }
`,
  script: `
(() => {
  const rows = document.getElementById("event-rows");
  const live = document.getElementById("live");
  const toggle = document.getElementById("live-toggle");
  const status = document.getElementById("live-status");
  if (!rows || !live || !toggle || !status) return;
  live.hidden = false;
  // Asked again each time: a webhook is recorded when routed, a moment after it was received, and
  // the rows of the last minute are drawn again with their deliveries' latest outcomes.
  const overlapMs = 60000;
  const maxRows = 200;
  let newest = Number(rows.dataset.newest) || Date.now();
  let timer;
  const stop = (text) => {
    clearInterval(timer);
    timer = undefined;
    toggle.checked = false;
    status.textContent = text;
  };
  const place = (row) => {
    const id = row.dataset.receipt;
    const old = [...rows.querySelectorAll("tr[data-receipt]")].find((tr) => tr.dataset.receipt === id);
    if (old) return old.replaceWith(row);
    row.classList.add("fresh");
    const at = Number(row.dataset.at);
    const later = [...rows.querySelectorAll("tr[data-receipt]")].find((tr) => Number(tr.dataset.at) < at);
    if (later) rows.insertBefore(row, later);
    else rows.append(row);
  };
  const poll = async () => {
    const query = new URLSearchParams(location.search);
    query.delete("cursor");
    query.delete("done");
    query.set("after", String(Math.max(0, newest - overlapMs)));
    let answer;
    try {
      const response = await fetch("/console/events/rows?" + query.toString(), { headers: { accept: "application/json" } });
      if (!response.ok || !(response.headers.get("content-type") || "").includes("json")) throw new Error(String(response.status));
      answer = await response.json();
    } catch {
      return stop("Live mode stopped: the relay did not answer (or the session ended; reload the page).");
    }
    const template = document.createElement("template");
    template.innerHTML = answer.rows;
    const fresh = [...template.content.querySelectorAll("tr[data-receipt]")];
    if (fresh.length > 0) rows.querySelector("tr.empty")?.remove();
    for (const row of fresh.reverse()) place(row);
    for (const row of [...rows.querySelectorAll("tr[data-receipt]")].slice(maxRows)) row.remove();
    if (answer.newest) newest = Math.max(newest, answer.newest);
    const now = Date.now();
    for (const span of rows.querySelectorAll(".age[data-at]")) span.textContent = ageText(now - Number(span.dataset.at));
    status.textContent = "Live: checked at " + new Date(now).toISOString().slice(11, 19) + "Z";
  };
  const ageText = (ms) => {
    const units = [["d", 86400000], ["h", 3600000], ["m", 60000], ["s", 1000]];
    let left = Math.max(0, ms);
    const parts = [];
    for (const [unit, size] of units) {
      if (left >= size || parts.length > 0 || unit === "s") {
        parts.push(Math.floor(left / size) + unit);
        left %= size;
      }
      if (parts.length === 2) break;
    }
    return parts.join("") + " ago";
  };
  toggle.addEventListener("change", () => {
    if (!toggle.checked) return stop("");
    status.textContent = "Live: new webhooks appear on top.";
    poll();
    timer = setInterval(poll, 2000);
  });
})();
`,
};

/** One webhook as a row: when (a link to its story), from where, about which ticket, what it was, where it went. */
export function eventRow(story: WebhookStory, now = Date.now()): Html {
  const { webhook } = story;
  const at = Date.parse(webhook.receivedAt);
  return html`<tr data-receipt="${webhook.id}" data-at="${at}">
<td><a href="/console/events/${encodeURIComponent(webhook.id)}" aria-label="Webhook ${webhook.id}">${timeHtml(at, now)}</a></td>
<td class="hide-narrow">${webhook.source}</td>
<td>${ticketLinks(story)}</td>
<td>${eventsHtml(webhook.events, webhook.moreEvents)}</td>
<td>${outcomeBadges(story)}</td>
</tr>`;
}

/**
 * The filters of the query; an empty field is no filter. An outcome or an age the form does not
 * offer is a 400 that says which are.
 */
function filterOf(query: Koa.Context["query"]): { filter: EventsFilter; form: FilterForm } {
  const form: FilterForm = {};
  for (const field of filterFields) {
    const value = firstValue(query[field])?.trim();
    if (value) form[field] = value;
  }
  const { ticket, source, type, target, outcome, since } = form;
  const filter: EventsFilter = { ticket, source, type, target };
  if (outcome !== undefined) {
    if (!(outcomes as readonly string[]).includes(outcome)) {
      throw new HttpError(400, `outcome is one of ${outcomes.join(", ")}, not "${outcome}"`);
    }
    filter.outcome = outcome as Outcome;
  }
  if (since !== undefined) {
    if (!durationPattern.test(since)) throw new HttpError(400, `since is an age such as "1h" or "7d", not "${since}"`);
    filter.since = parseDuration(since);
  }
  return { filter, form };
}

/** A cursor this relay did not give (an edited link) is the reader's mistake: a 400 that says so. */
async function listOrBadCursor<T>(list: Promise<T>): Promise<T> {
  try {
    return await list;
  } catch (error) {
    if (error instanceof InvalidCursor) throw new HttpError(400, error.message);
    throw error;
  }
}

/** `?ticket=…&outcome=…` of the filters set, plus `extra`. */
function queryOf(form: FilterForm, extra: Record<string, string> = {}): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries({ ...form, ...extra })) if (value) query.set(key, value);
  const text = query.toString();
  return text ? `?${text}` : "";
}

/** The filters as a GET form: sources and targets of the config to choose from, the event types its sources emit offered. */
function filtersForm(form: FilterForm, sources: Config["sources"], targets: string[]): Html {
  const types = [
    ...new Set(Object.values(sources).flatMap((source) => eventTypesBySourceType[source.type] ?? [])),
  ].sort();
  const sinces: string[] = [...sinceChoices];
  if (form.since && !sinces.includes(form.since)) sinces.push(form.since);
  return html`<form class="filters" method="get" action="/console/events" aria-label="Filters">
  <div><label for="filter-ticket">Ticket</label><input id="filter-ticket" name="ticket" value="${form.ticket ?? ""}" inputmode="search"></div>
  <div><label for="filter-source">Source</label>${select("filter-source", "source", Object.keys(sources), form.source)}</div>
  <div><label for="filter-type">Type</label><input id="filter-type" name="type" list="event-types" value="${form.type ?? ""}">
  <datalist id="event-types">${types.map((type) => html`<option value="${type}"></option>`)}</datalist></div>
  <div><label for="filter-target">Target</label>${select("filter-target", "target", targets, form.target)}</div>
  <div><label for="filter-outcome">Outcome</label>${select("filter-outcome", "outcome", outcomes, form.outcome)}</div>
  <div><label for="filter-since">Received</label>${select(
    "filter-since",
    "since",
    sinces,
    form.since,
    (value) => `in the last ${value}`,
  )}</div>
  <div><button type="submit">Filter</button></div>
  <div><a href="/console/events">Clear</a></div>
</form>`;
}

/** A select whose first choice, "any", is no filter; a value not among the choices stays chosen. */
function select(
  id: string,
  name: string,
  choices: readonly string[],
  chosen: string | undefined,
  label: (value: string) => string = (value) => value,
): Html {
  const all = chosen && !choices.includes(chosen) ? [...choices, chosen] : choices;
  return html`<select id="${id}" name="${name}"><option value="">any</option>${all.map(
    (value) => html`<option value="${value}"${value === chosen ? html` selected` : ""}>${label(value)}</option>`,
  )}</select>`;
}

function liveToggle(): Html {
  return html`<div class="live" id="live" hidden>
  <label><input type="checkbox" id="live-toggle"> Live</label>
  <span id="live-status" class="muted" role="status" aria-live="polite"></span>
</div>`;
}
