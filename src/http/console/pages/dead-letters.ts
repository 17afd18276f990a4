import { counted, oneLine } from "../../../commands/output.js";
import { parseDuration } from "../../../config/duration.js";
import type { DeadLetter, Selector } from "../../../queue/dead-letters.js";
import { HttpError } from "../../body.js";
import { type ConsolePage, consoleOf, formOf, logAction, redirectDone, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import { csrfField } from "../layout.js";
import { ticketLink, timeHtml } from "../story-html.js";

/** The lengths the filter offers for "gave up within". */
const sinceChoices = [
  { value: "15m", label: "the last 15 minutes" },
  { value: "1h", label: "the last hour" },
  { value: "1d", label: "the last day" },
  { value: "7d", label: "the last 7 days" },
];
/**
 * Rows drawn at most: the list holds up to `deadLetters.max` (10,000 by default), more than a
 * page can show usefully. The count and the "all shown" actions still cover every one the
 * filter takes.
 */
const rowsShown = 100;

interface Filter {
  /** "" for every target. */
  target: string;
  /** As given ("1h"), "" for any time. */
  since: string;
}

/**
 * The Dead letters page: the deliveries that gave up, filtered by target and age, with the
 * actions of `ticket-relay dlq replay|purge`, through the same DeadLetters calls.
 */
export const deadLettersPage: ConsolePage = {
  add(router) {
    router.get("/dead-letters", async (ctx) => {
      const filter = filterOf(new URLSearchParams(ctx.querystring));
      const { deps, csrf } = consoleOf(ctx);
      const { letters, matching } = await deps.deadLetters.page({
        target: filter.target || undefined,
        since: sinceMs(filter),
        limit: rowsShown,
      });
      const targets = Object.keys(deps.parts().config.targets);
      renderPage(ctx, {
        title: "Dead letters",
        current: "/console/dead-letters",
        body: html`<p class="muted">Deliveries that used up their tries, or failed for good. Fix what made them fail
(the receiver, the config), then replay them: each is sent again under the same delivery id, with all its tries.</p>
${filterForm(filter, targets)}
<p class="count" id="dead-letter-count">${counted(matching, "dead letter")}${describeFilter(filter)}</p>
${letters.length === 0 ? "" : html`${allShownActions(filter, matching, csrf)}${lettersTable(letters, matching, filter, csrf)}`}`,
      });
    });

    router.post("/dead-letters/replay", async (ctx) => {
      const form = formOf(ctx);
      const filter = filterOf(form);
      const { deps } = consoleOf(ctx);
      const choice = chosen(form, filter);
      if (!choice)
        return redirectDone(ctx, pagePath(filter), "nothing replayed: tick the dead letters to replay first");
      const replayedIds: string[] = [];
      const result = await deps.deadLetters.replay({ ...choice.selector, since: choice.since }, replayedIds);
      await deps.history?.noteReplayed(replayedIds, "console");
      logAction(ctx, "dead letters replayed", {
        ...choice.logged,
        replayed: result.replayed,
        notFound: result.notFound,
      });
      const notes = [`replayed ${counted(result.replayed, "dead letter")}`, ...notFoundNote(result.notFound)];
      // A replay to a disabled target only makes the same dead letter again (as `dlq replay` warns).
      if (result.replayed > 0) {
        for (const [target, off] of await deps.disabledTargets.list()) {
          if ("target" in choice.selector && choice.selector.target !== target) continue;
          notes.push(`target ${target} is disabled (${off.reason}): enable it on the overview`);
        }
      }
      redirectDone(ctx, pagePath(filter), notes.join("; "));
    });

    router.post("/dead-letters/purge", async (ctx) => {
      const form = formOf(ctx);
      const filter = filterOf(form);
      const { deps } = consoleOf(ctx);
      const choice = chosen(form, filter);
      if (!choice) return redirectDone(ctx, pagePath(filter), "nothing purged: tick the dead letters to purge first");
      // `dlq purge` narrows by age the other way (--older-than); those the page shows within
      // `since` are named one by one instead.
      const selector: Selector =
        choice.since === undefined
          ? choice.selector
          : {
              ids: (await deps.deadLetters.list({ target: filter.target || undefined, since: choice.since })).map(
                (letter) => letter.id,
              ),
            };
      const result = await deps.deadLetters.purge(selector);
      logAction(ctx, "dead letters purged", { ...choice.logged, purged: result.purged, notFound: result.notFound });
      redirectDone(
        ctx,
        pagePath(filter),
        [`purged ${counted(result.purged, "dead letter")}`, ...notFoundNote(result.notFound)].join("; "),
      );
    });
  },
  css: `
.dead-letter-actions { display: flex; flex-wrap: wrap; gap: .5rem; margin: .5rem 0 1rem; }
table.dead-letters td:nth-child(7) { max-width: 32rem; overflow-wrap: anywhere; }
`,
  // Purge selected shares its form with Replay selected: the question is asked by the button.
  script: `
document.addEventListener("submit", (event) => {
  const button = event.submitter;
  const question = button instanceof HTMLElement ? button.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});
`,
};

/** The dead letters a POST is about: those ticked (`id`), or every one of the filter (`scope=filter`). */
function chosen(
  form: URLSearchParams,
  filter: Filter,
): { selector: Selector; since?: number; logged: Record<string, unknown> } | undefined {
  if (form.get("scope") === "filter") {
    const selector: Selector = filter.target ? { target: filter.target } : { all: true };
    return { selector, since: sinceMs(filter), logged: { ...selector, ...(filter.since && { since: filter.since }) } };
  }
  const ids = form.getAll("id").filter((id) => id !== "");
  return ids.length === 0 ? undefined : { selector: { ids }, logged: { ids } };
}

function filterOf(params: URLSearchParams): Filter {
  const filter = { target: params.get("target") ?? "", since: params.get("since") ?? "" };
  sinceMs(filter);
  return filter;
}

function sinceMs(filter: Filter): number | undefined {
  if (filter.since === "") return undefined;
  try {
    return parseDuration(filter.since);
  } catch {
    throw new HttpError(400, `"gave up within" takes a duration such as 15m, 1h or 7d, not "${filter.since}"`);
  }
}

function pagePath(filter: Filter): string {
  const query = new URLSearchParams();
  if (filter.target) query.set("target", filter.target);
  if (filter.since) query.set("since", filter.since);
  const text = query.toString();
  return text ? `/console/dead-letters?${text}` : "/console/dead-letters";
}

function describeFilter(filter: Filter): string {
  const target = filter.target ? ` to target ${filter.target}` : "";
  const since = filter.since ? `, given up within ${filter.since}` : "";
  return `${target}${since}`;
}

/** The ids no longer dead letters; a few named, so the notice (in the redirect's address) stays short. */
function notFoundNote(notFound: readonly string[]): string[] {
  if (notFound.length === 0) return [];
  const named = notFound.slice(0, 3).join(", ") + (notFound.length > 3 ? " …" : "");
  return [`${notFound.length} not found (delivered, replayed or purged meanwhile): ${named}`];
}

function filterForm(filter: Filter, configTargets: readonly string[]): Html {
  // A target that left the config may still have dead letters.
  const targets =
    filter.target && !configTargets.includes(filter.target) ? [...configTargets, filter.target] : configTargets;
  const sinces =
    filter.since && !sinceChoices.some((choice) => choice.value === filter.since)
      ? [...sinceChoices, { value: filter.since, label: filter.since }]
      : sinceChoices;
  return html`<form class="filters" method="get" action="/console/dead-letters">
  <div><label for="dead-letters-target">Target</label>
  <select id="dead-letters-target" name="target">
    <option value="">every target</option>
    ${targets.map((target) => option(target, target, filter.target))}
  </select></div>
  <div><label for="dead-letters-since">Gave up within</label>
  <select id="dead-letters-since" name="since">
    <option value="">any time</option>
    ${sinces.map((choice) => option(choice.value, choice.label, filter.since))}
  </select></div>
  <button type="submit">Filter</button>
</form>`;
}

function option(value: string, label: string, selected: string): Html {
  return html`<option value="${value}"${value === selected ? html` selected` : ""}>${label}</option>`;
}

/** The filter as hidden fields: the action covers it, and the redirect comes back to it. */
function filterFields(filter: Filter): Html {
  return html`<input type="hidden" name="target" value="${filter.target}"><input type="hidden" name="since" value="${filter.since}">`;
}

function allShownActions(filter: Filter, count: number, csrf: string): Html {
  const all = counted(count, "dead letter");
  return html`<div class="dead-letter-actions">
  <form class="inline" method="post" action="/console/dead-letters/replay">
    ${csrfField(csrf)}${filterFields(filter)}<input type="hidden" name="scope" value="filter">
    <button type="submit">Replay all shown (${count})</button>
  </form>
  <form class="inline" method="post" action="/console/dead-letters/purge" data-confirm="Delete all ${all} shown, for good? They cannot be replayed after.">
    ${csrfField(csrf)}${filterFields(filter)}<input type="hidden" name="scope" value="filter">
    <button type="submit" class="danger">Purge all shown (${count})</button>
  </form>
</div>`;
}

function lettersTable(shown: readonly DeadLetter[], matching: number, filter: Filter, csrf: string): Html {
  const now = Date.now();
  return html`<form method="post" action="/console/dead-letters/replay" aria-label="Selected dead letters">
  ${csrfField(csrf)}${filterFields(filter)}
  ${matching > shown.length ? html`<p class="muted">The newest ${shown.length} are listed; "all shown" acts on all ${matching}.</p>` : ""}
  <div class="table-wrap"><table class="dead-letters">
  <thead><tr>
    <th scope="col"><input type="checkbox" data-select-all="id" aria-label="Select every dead letter listed"></th>
    <th scope="col">Delivery</th><th scope="col">Gave up</th><th scope="col">Target</th><th scope="col">Ticket</th>
    <th scope="col">Event</th><th scope="col">Last error</th><th scope="col">Tries</th>
  </tr></thead>
  <tbody>${shown.map((letter) => letterRow(letter, now))}</tbody>
  </table></div>
  <div class="dead-letter-actions">
    <button type="submit">Replay selected</button>
    <button type="submit" class="danger" formaction="/console/dead-letters/purge" data-confirm="Delete the selected dead letters, for good?">Purge selected</button>
  </div>
</form>`;
}

function letterRow(letter: DeadLetter, now: number): Html {
  const receipt = receiptOf(letter.id);
  return html`<tr>
  <td><input type="checkbox" name="id" value="${letter.id}" aria-label="Select ${letter.id}"></td>
  <td class="mono">${receipt ? html`<a href="/console/events/${encodeURIComponent(receipt)}">${letter.id}</a>` : letter.id}</td>
  <td>${timeHtml(letter.failedAt, now)}</td>
  <td>${letter.target}${letter.fallbackFor ? html` <span class="muted">(fallback for ${letter.fallbackFor.targetId})</span>` : ""}</td>
  <td>${letter.ticketId === undefined ? html`<span class="muted">none</span>` : ticketLink(letter.ticketId)}</td>
  <td class="mono">${letter.eventType}</td>
  <td title="${letter.lastError.reason}">${oneLine(letter.lastError.reason, 200)}</td>
  <td>${letter.tries}</td>
</tr>`;
}

/**
 * The webhook a delivery came from: a delivery id is `<receipt id>.<event index>.<target>`
 * (queue/jobs.ts; a replay or a digest adds to its end), and a receipt id has no dot. A
 * digest's own jobs (`digest-…`) belong to no one webhook.
 */
function receiptOf(deliveryId: string): string | undefined {
  const parts = deliveryId.split(".");
  return parts.length >= 3 && !deliveryId.startsWith("digest-") ? parts[0] : undefined;
}
