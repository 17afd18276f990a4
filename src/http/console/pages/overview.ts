import { age } from "../../../commands/output.js";
import { unknownSource } from "../../../history/history-tools.js";
import type { TakenAction } from "../../../history/records.js";
import type { SourceStats } from "../../../history/source-stats.js";
import type { StepCounts, TargetStats } from "../../../history/target-stats.js";
import type { QueueSnapshot } from "../../../metrics/relay-metrics.js";
import type { Disabled } from "../../../queue/disabled-targets.js";
import { deliveryQueueName, inboundQueueName } from "../../../queue/jobs.js";
import type { ListedMute } from "../../../queue/mutes.js";
import { HttpError } from "../../body.js";
import { type ConsolePage, consoleOf, logAction, redirectDone, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import { csrfField } from "../layout.js";
import { timeHtml } from "../story-html.js";

/**
 * The Overview page (`/console`): is each target getting its messages, is anything stuck, is
 * each source taking its webhooks. The counts come from the history's per-target counts
 * (history/target-stats.ts) and each source's index, so the page reads no webhook's record and
 * costs the same with 100 or 100,000 of them kept.
 */
export const overviewPage: ConsolePage = {
  add(router) {
    router.get("/", async (ctx) => {
      const { deps, csrf } = consoleOf(ctx);
      const { config } = deps.parts();
      const targets = Object.entries(config.targets).map(([id, target]) => ({ id, type: target.type }));
      const sources = Object.entries(config.sources).map(([id, source]) => ({ id, type: source.type }));
      const now = Date.now();
      const [queues, mutes, disabled, counts, actions] = await Promise.all([
        deps.queues(),
        deps.mutes.list(now),
        deps.disabledTargets.list(),
        deps.history?.overview(
          targets.map((target) => target.id),
          [...sources.map((source) => source.id), unknownSource],
          now,
        ),
        deps.history?.actions(10),
      ]);
      const shown: Shown = { csrf, now };
      const statsOf = new Map(counts?.targets.map((stats) => [stats.target, stats]));
      const sourceStats = new Map(counts?.sources.map((stats) => [stats.source, stats]));
      const elsewhere = {
        mutes: mutes.filter((mute) => mute.kind === "route" || !(mute.name in config.targets)),
        disabled: [...disabled].filter(([id]) => !(id in config.targets)),
      };
      renderPage(ctx, {
        title: "Overview",
        current: "/console",
        body: html`${
          counts
            ? ""
            : html`<p class="notice">The history is off (<code>history.enabled: false</code> in the config): no
counts are kept per target or source. Mutes, disabled targets and the queues are shown.</p>`
        }
<h2 id="targets">Targets</h2>
${targets.length === 0 ? html`<p class="muted">The config has no targets.</p>` : ""}
<div class="cards">
${targets.map((target) =>
  targetCard(target, {
    stats: statsOf.get(target.id),
    history: counts !== undefined,
    mute: mutes.find((mute) => mute.kind === "target" && mute.name === target.id),
    disabled: disabled.get(target.id),
    shown,
  }),
)}
</div>
${elsewhereList(elsewhere, shown)}
<h2 id="queues">Queues</h2>
${queuesPart(queues, now)}
<h2 id="sources">Sources</h2>
${counts ? sourcesTable(sources, sourceStats, now) : html`<p class="muted">The history is off: no counts per source.</p>`}
${actions && actions.length > 0 ? actionsTable(actions, now) : ""}`,
      });
    });

    // The same call as `ticket-relay targets enable ID` (commands/targets-enable.ts).
    router.post("/targets/:id/enable", async (ctx) => {
      const { deps } = consoleOf(ctx);
      const id = ctx.params.id ?? "";
      if (await deps.disabledTargets.enable(id)) {
        logAction(ctx, "target enabled", { target: id });
        return redirectDone(
          ctx,
          "/console",
          `Target ${id} enabled. Deliveries that became dead letters while it was disabled stay there: replay them from Dead letters.`,
        );
      }
      if (id in deps.parts().config.targets) return redirectDone(ctx, "/console", `Target ${id} was not disabled.`);
      throw new HttpError(404, `no target "${id}" in the config, and none disabled by that id`);
    });
  },

  css: `
.target h3 { display: flex; flex-wrap: wrap; gap: .4rem; align-items: baseline; }
.target .counts { margin: .25rem 0 .5rem; }
.target .counts td, .target .counts thead th + th { text-align: right; font-variant-numeric: tabular-nums; }
.target-state { margin: .5rem 0; padding: .5rem; border-radius: 6px; background: var(--panel); }
.target-state p { margin: 0 0 .4rem; }
.failure { word-break: break-word; }
.card p { margin: .35rem 0; }
`,
};

interface Shown {
  csrf: string;
  now: number;
}

function targetCard(
  target: { id: string; type: string },
  state: { stats?: TargetStats; history: boolean; mute?: ListedMute; disabled?: Disabled; shown: Shown },
): Html {
  const { stats, mute, disabled, shown } = state;
  const headingId = `target-${target.id}-name`;
  return html`<article class="card target" id="target-${target.id}" aria-labelledby="${headingId}">
  <h3 id="${headingId}">${target.id} <span class="muted">${target.type}</span>${
    disabled ? html` <span class="badge dead">disabled</span>` : ""
  }${mute ? html` <span class="badge held">muted</span>` : ""}</h3>
  ${state.history && stats ? targetCounts(stats, shown.now) : ""}
  ${disabled ? disabledPart(target.id, disabled, shown) : ""}
  ${mute ? mutePart(mute, shown) : ""}
  <p><a href="/console/events?target=${encodeURIComponent(target.id)}">Events</a> ·
    <a href="/console/dead-letters?target=${encodeURIComponent(target.id)}">Dead letters</a></p>
</article>`;
}

const countRows: { step: keyof StepCounts; label: string; always: boolean }[] = [
  { step: "delivered", label: "Delivered", always: true },
  { step: "failed", label: "Failed tries", always: true },
  { step: "dead", label: "Dead letters", always: true },
  { step: "held", label: "Held", always: false },
  { step: "dropped", label: "Dropped", always: false },
];

function targetCounts(stats: TargetStats, now: number): Html {
  const rows = countRows.filter((row) => row.always || stats.lastDay[row.step] > 0);
  const cell = (row: (typeof countRows)[number], n: number) =>
    n > 0 && row.step !== "delivered" ? html`<td class="${row.step}">${n}</td>` : html`<td>${n}</td>`;
  return html`<table class="counts">
    <thead><tr><th scope="col">Deliveries</th><th scope="col">Last hour</th><th scope="col">Last day</th></tr></thead>
    <tbody>${rows.map(
      (row) =>
        html`<tr><th scope="row">${row.label}</th>${cell(row, stats.lastHour[row.step])}${cell(row, stats.lastDay[row.step])}</tr>`,
    )}</tbody>
  </table>
  <p>Success rate (last day): <strong>${successRate(stats.lastDay)}</strong></p>
  ${
    stats.lastError
      ? html`<p>Last error ${timeAgo(stats.lastError.at, now)}: <span class="failure">${stats.lastError.failure}</span></p>`
      : html`<p class="muted">No error recorded.</p>`
  }`;
}

/** Delivered of those that ended (delivered or gave up) over the day: a try that failed and then went is no failure. */
export function successRate(counts: StepCounts): string {
  const ended = counts.delivered + counts.dead;
  if (ended === 0) return "—";
  // Rounded down: one loss in ten thousand must not read as 100%.
  return `${Math.floor((counts.delivered / ended) * 1000) / 10}%`;
}

function disabledPart(id: string, disabled: Disabled, shown: Shown): Html {
  return html`<div class="target-state">
    <p><strong>Disabled</strong> ${timeAgo(disabled.since, shown.now)}: <span class="failure">${disabled.reason}</span>.
      Nothing is sent to it until it is enabled; its deliveries become dead letters.</p>
    <form method="post" action="/console/targets/${encodeURIComponent(id)}/enable">
      ${csrfField(shown.csrf)}
      <button type="submit" aria-label="Enable ${id}">Enable</button>
    </form>
  </div>`;
}

function mutePart(mute: ListedMute, shown: Shown): Html {
  const what = mute.drop ? "its deliveries are dropped" : `${mute.held} held`;
  return html`<div class="target-state">
    <p><strong>Muted</strong> until ${timeUntil(mute.until, shown.now)}${
      mute.reason ? html`: <span class="failure">${mute.reason}</span>` : ""
    } (${what}).</p>
    ${unmuteForm(mute, shown.csrf)}
  </div>`;
}

/** Ends a mute through the Mutes page's action, which calls the same `Mutes.unmute` as `ticket-relay unmute`. */
function unmuteForm(mute: ListedMute, csrf: string): Html {
  return html`<form method="post" action="/console/mutes/end">
      ${csrfField(csrf)}
      <input type="hidden" name="kind" value="${mute.kind}">
      <input type="hidden" name="name" value="${mute.name}">
      <input type="hidden" name="back" value="/console">
      <button type="submit" aria-label="Unmute ${mute.kind} ${mute.name}">Unmute</button>
    </form>`;
}

/** Route mutes, and mutes or disables of targets the config no longer has: they still act. */
function elsewhereList(elsewhere: { mutes: ListedMute[]; disabled: [string, Disabled][] }, shown: Shown): Html {
  if (elsewhere.mutes.length === 0 && elsewhere.disabled.length === 0) return html``;
  return html`<h2 id="other-mutes">Other mutes and disabled targets</h2>
<div class="cards">
${elsewhere.mutes.map(
  (mute) => html`<div class="card">
  <h3>${mute.kind} ${mute.name}${mute.kind === "target" ? html` <span class="muted">(not in the config)</span>` : ""}</h3>
  ${mutePart(mute, shown)}
</div>`,
)}
${elsewhere.disabled.map(
  ([id, disabled]) => html`<div class="card">
  <h3>target ${id} <span class="muted">(not in the config)</span></h3>
  ${disabledPart(id, disabled, shown)}
</div>`,
)}
</div>`;
}

function queuesPart(queues: QueueSnapshot | undefined, now: number): Html {
  if (!queues) return html`<p class="notice error">Redis did not answer for the queues' depths.</p>`;
  const delivery = queues.queues.find((queue) => queue.queue === deliveryQueueName);
  const queued = delivery ? delivery.waiting + delivery.delayed + delivery.active : 0;
  return html`<p>Deliveries queued: <strong>${queued}</strong> ·
  <a href="/console/dead-letters">Dead letters: <strong>${queues.deadLetters}</strong></a></p>
<div class="table-wrap"><table class="queues">
  <thead><tr><th scope="col">Queue</th><th scope="col">Waiting</th><th scope="col">Delayed</th><th scope="col">Active</th><th scope="col">Oldest waiting</th></tr></thead>
  <tbody>${queues.queues.map(
    (queue) =>
      html`<tr><th scope="row">${queueLabels[queue.queue] ?? queue.queue}</th><td>${queue.waiting}</td><td>${queue.delayed}</td><td>${queue.active}</td><td>${
        queue.oldestWaitingSeconds > 0 ? age(new Date(now - queue.oldestWaitingSeconds * 1000).toISOString(), now) : "—"
      }</td></tr>`,
  )}</tbody>
</table></div>`;
}

const queueLabels: Record<string, string> = {
  [inboundQueueName]: "Webhooks to route",
  [deliveryQueueName]: "Deliveries to send",
};

function sourcesTable(sources: { id: string; type: string }[], stats: Map<string, SourceStats>, now: number): Html {
  const unknown = stats.get(unknownSource);
  const rows = [
    ...sources.map((source) => ({ name: html`${source.id}`, type: source.type, stats: stats.get(source.id) })),
    // Requests to a path naming no source: a platform posting to a wrong URL shows here.
    ...(unknown?.lastRefused ? [{ name: html`<em>no such source</em>`, type: "—", stats: unknown }] : []),
  ];
  return html`<div class="table-wrap"><table class="sources">
  <thead><tr><th scope="col">Source</th><th scope="col">Type</th><th scope="col">Accepted (last hour)</th><th scope="col">Refused (last hour)</th><th scope="col">Last refusal</th></tr></thead>
  <tbody>${rows.map(
    (row) =>
      html`<tr><th scope="row">${row.name}</th><td>${row.type}</td><td>${row.stats?.acceptedLastHour ?? 0}</td><td${
        (row.stats?.refusedLastHour ?? 0) > 0 ? html` class="bad"` : ""
      }>${row.stats?.refusedLastHour ?? 0}</td><td>${
        row.stats?.lastRefused
          ? html`${timeAgo(row.stats.lastRefused.at, now)}: <span class="failure">${row.stats.lastRefused.status} ${row.stats.lastRefused.reason}</span>`
          : html`<span class="muted">none</span>`
      }</td></tr>`,
  )}</tbody>
</table></div>`;
}

/** `<time>` in UTC with its age: `2026-11-25T18:50:25.277Z (3m12s ago)`. */
function timeAgo(iso: string, now: number): Html {
  return html`<time datetime="${iso}">${iso}</time> <span class="muted">(${age(iso, now)} ago)</span>`;
}

/** A time to come, with how long until then: `2026-11-25T19:50:25.277Z (in 59m)`. */
function timeUntil(iso: string, now: number): Html {
  return html`<time datetime="${iso}">${iso}</time> <span class="muted">(in ${age(new Date(now).toISOString(), Date.parse(iso))})</span>`;
}

/** The newest actions taken by hand, in the console or with a command. */
function actionsTable(actions: readonly TakenAction[], now: number): Html {
  return html`<h2 id="actions">Recent actions</h2>
<div class="table-wrap"><table>
<thead><tr><th scope="col">When</th><th scope="col">Action</th><th scope="col">What</th><th scope="col">From</th></tr></thead>
<tbody>${actions.map(
    (action) =>
      html`<tr><td>${timeHtml(action.at, now)}</td><td>${action.action}</td><td>${action.what}</td><td>${action.from}${action.client ? html` <span class="muted">(${action.client})</span>` : ""}</td></tr>`,
  )}</tbody>
</table></div>`;
}
