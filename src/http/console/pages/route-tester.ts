import type Koa from "koa";
import {
  type DryRunEvent,
  type DryRunMessage,
  dryRun,
  type RouteVerdict,
  sourceForPayload,
} from "../../../commands/dry-run.js";
import { intervalsAt } from "../../../commands/route.js";
import {
  platformNames,
  type SamplePlatform,
  sampleBody,
  sampleEvents,
  samplePlatforms,
} from "../../../commands/try/sample.js";
import { parseInstant } from "../../../routing/time-intervals.js";
import type { Source } from "../../../sources/source.js";
import { InvalidPayload } from "../../../sources/source.js";
import { type ConsolePage, consoleOf, formOf, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import { csrfField } from "../layout.js";
import { slackPreview, slackPreviewCss } from "../slack-preview.js";

/**
 * The Route tester: a pasted webhook body, or a sample of an event type, through the config in
 * force, sending nothing. Each event's route decisions and each target's message come from the
 * dry run of `ticket-relay route --event` (commands/dry-run.ts), never from a second router.
 */
export const routeTesterPage: ConsolePage = {
  add(router) {
    router.get("/route-tester", (ctx) => showTester(ctx, { body: "", source: "", sample: "", at: "" }));
    router.post("/route-tester", (ctx) => {
      const form = formOf(ctx);
      const asked: TesterForm = {
        body: form.get("body") ?? "",
        source: form.get("source") ?? "",
        sample: form.get("sample") ?? "",
        at: form.get("at") ?? "",
      };
      const tried = tryRoutes(ctx, asked, form.get("use") === "sample");
      if ("problem" in tried) ctx.status = 400;
      showTester(ctx, tried.form, tried);
    });
  },
  css: `${slackPreviewCss}
.tester-form .wide { flex: 1 1 100%; }
.tester-form .wide textarea { min-height: 16rem; }
.decision { white-space: nowrap; }
.decision.matched { color: var(--ok); }
.decision.unmet { color: var(--bad); }
.decision.outside { color: var(--held); }
.decision.not-tried { color: var(--muted); }
.part-name { font-weight: 600; margin: .75rem 0 .25rem; }
.would-send { border-top: 1px solid var(--line); margin-top: 1rem; padding-top: .25rem; }
.email-head { display: grid; grid-template-columns: max-content 1fr; gap: .2rem .75rem; margin: .5rem 0; }
.email-head dt { color: var(--muted); }
.email-head dd { margin: 0; }
iframe.email-html { width: 100%; max-width: 42rem; height: 22rem; border: 1px solid var(--line); border-radius: 6px; background: #fff; }
`,
};

/** What the form holds, kept as posted so the page shows it again. */
interface TesterForm {
  body: string;
  /** A source id, or "" to tell it from the body as `route` does. */
  source: string;
  /** `platform/event` of a sample, or "". */
  sample: string;
  /** A datetime-local value, read as UTC, or "" for now. */
  at: string;
}

interface Routed {
  form: TesterForm;
  source: Source;
  at: Date;
  atGiven: boolean;
  intervals: { name: string; holds: boolean; localTime: string }[];
  events: DryRunEvent[];
}

type Tried = Routed | { form: TesterForm; problem: string };

/** The dry run of `route --event` on the form's body or sample, or why it cannot be made. */
function tryRoutes(ctx: Koa.Context, asked: TesterForm, sampleWanted: boolean): Tried {
  const { config, sources } = consoleOf(ctx).deps.parts();
  const at = atOf(asked.at);
  if (!at) return { form: asked, problem: `"${asked.at}" is not a date and time.` };

  let form = asked;
  if (asked.sample !== "" && (sampleWanted || asked.body.trim() === "")) {
    const sample = sampleOf(asked.sample);
    if (!sample) return { form, problem: `There is no sample of "${asked.sample}".` };
    form = { ...asked, body: JSON.stringify(sampleBody(sample.platform, sample.event), null, 2) };
  }
  if (form.body.trim() === "") return { form, problem: "Paste a webhook body, or pick a sample event type." };

  let payload: unknown;
  try {
    payload = JSON.parse(form.body);
  } catch (error) {
    return { form, problem: `The body is not JSON: ${(error as Error).message}.` };
  }
  const chosen = sourceForPayload(sources, payload, form.source || undefined, "the Source menu");
  if ("refused" in chosen) return { form, problem: sentence(chosen.refused) };
  try {
    const events = dryRun(config, chosen.source, payload, at);
    const atGiven = asked.at !== "";
    return { form, source: chosen.source, at, atGiven, intervals: intervalsAt(config, at), events };
  } catch (error) {
    if (!(error instanceof InvalidPayload)) throw error;
    return { form, problem: `The ${chosen.source.id} source refuses this body: ${error.message}` };
  }
}

/** A datetime-local value (no offset: the page says UTC), or now when empty; undefined when unreadable. */
function atOf(text: string): Date | undefined {
  if (text === "") return new Date();
  return /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?$/.test(text) ? parseInstant(`${text}Z`) : undefined;
}

/** A sample the select offers (`platform/event`): nothing else is read from the fixtures' folder. */
function sampleOf(value: string): { platform: SamplePlatform; event: string } | undefined {
  const [named, event, ...rest] = value.split("/");
  const platform = samplePlatforms.find((one) => one === named);
  if (!platform || event === undefined || rest.length > 0 || !sampleEvents()[platform].includes(event))
    return undefined;
  return { platform, event };
}

function showTester(ctx: Koa.Context, form: TesterForm, tried?: Tried): void {
  const sources = [...consoleOf(ctx).deps.parts().sources.values()];
  renderPage(ctx, {
    title: "Route tester",
    current: "/console/route-tester",
    body: html`<p class="muted">What the routes in force make of a webhook, and the message each target would get.
Nothing is sent: this is the dry run of <code>ticket-relay route --event</code>.</p>
${tried && "problem" in tried ? html`<p class="notice error" role="alert">${tried.problem}</p>` : ""}
${testerForm(consoleOf(ctx).csrf, form, sources)}
${tried && "events" in tried ? routedHtml(tried) : ""}`,
  });
}

function testerForm(csrf: string, form: TesterForm, sources: readonly Source[]): Html {
  const samples = sampleEvents();
  return html`<form class="row tester-form" method="post" action="/console/route-tester">
  ${csrfField(csrf)}
  <div class="wide">
    <label for="tester-body">Webhook body (JSON)</label>
    <textarea id="tester-body" name="body" spellcheck="false" placeholder="{&quot;EventType&quot;: &quot;ticket_status_change&quot;, …}">${form.body}</textarea>
  </div>
  <div>
    <label for="tester-source">Source</label>
    <select id="tester-source" name="source">
      <option value="">Tell from the body</option>
      ${sources.map((source) => html`<option value="${source.id}"${selected(form.source === source.id)}>${source.id} (${source.type})</option>`)}
    </select>
  </div>
  <div>
    <label for="tester-sample">Sample event type</label>
    <select id="tester-sample" name="sample">
      <option value="">None: use the body</option>
      ${samplePlatforms.map(
        (platform) => html`<optgroup label="${platformNames[platform]}">
        ${samples[platform].map((event) => html`<option value="${platform}/${event}"${selected(form.sample === `${platform}/${event}`)}>${event}</option>`)}
      </optgroup>`,
      )}
    </select>
  </div>
  <div>
    <label for="tester-at">Received at (UTC; empty: now)</label>
    <input id="tester-at" name="at" type="datetime-local" step="1" value="${form.at}">
  </div>
  <div>
    <button type="submit" name="use" value="body">Route the body</button>
    <button type="submit" name="use" value="sample" class="quiet">Route the sample</button>
  </div>
</form>`;
}

function selected(yes: boolean): Html {
  return yes ? html` selected` : html``;
}

function routedHtml({ source, at, atGiven, intervals, events }: Routed): Html {
  return html`<section id="tester-result" aria-labelledby="tester-result-heading">
<h2 id="tester-result-heading">What the relay would do</h2>
<p>Source <strong>${source.id}</strong> (${source.type}), ${events.length === 1 ? "1 event" : `${events.length} events`},
routed as received at <time datetime="${at.toISOString()}">${at.toISOString()}</time>${atGiven ? "" : " (now)"}.</p>
${
  intervals.length > 0
    ? html`<ul class="intervals">${intervals.map(
        ({ name, holds, localTime }) =>
          html`<li><span class="decision ${holds ? "matched" : "not-tried"}">${holds ? "✓" : "✗"}</span> ${name} ${holds ? "holds" : "does not hold"} <span class="muted">(${localTime})</span></li>`,
      )}</ul>`
    : ""
}
${events.map((event) => eventHtml(event, events.length > 1))}
</section>`;
}

function eventHtml(event: DryRunEvent, numbered: boolean): Html {
  return html`<article class="tested-event">
<h3>${numbered ? `Event ${event.index + 1}: ` : "Event: "}${event.type}</h3>
<p>${event.summary}</p>
<div class="table-wrap"><table>
  <thead><tr><th scope="col">Route</th><th scope="col">Decision</th><th scope="col">Why, or where to</th></tr></thead>
  <tbody>${event.routes.map(verdictRow)}</tbody>
</table></div>
${event.routes.length === 0 ? html`<p>The config has no routes.</p>` : ""}
<p><strong>Targets:</strong> ${event.targets.length > 0 ? event.targets.join(", ") : "none: no target receives it."}</p>
${event.messages.map(wouldSendHtml)}
</article>`;
}

function verdictRow(verdict: RouteVerdict): Html {
  const [decision, label, why] = verdictWords(verdict);
  return html`<tr><th scope="row">${verdict.route}</th><td><span class="decision ${decision}">${label}</span></td><td>${why}</td></tr>`;
}

function verdictWords(verdict: RouteVerdict): [string, string, string] {
  if (verdict.matched) {
    return ["matched", "✓ matched", `→ ${verdict.targets.join(", ")}${verdict.continue ? " (continue)" : ""}`];
  }
  if ("notTried" in verdict) return ["not-tried", "– not tried", verdict.notTried];
  if ("outsideTime" in verdict) return ["outside", "✗ not at this time", verdict.reason];
  return ["unmet", "✗ unmet", verdict.reason];
}

const targetKinds = { slack: "Slack", email: "Email", http: "HTTP", none: "Unknown target" } as const;

/** One target's message, drawn as the person at the other end would see it. */
function wouldSendHtml(message: DryRunMessage): Html {
  return html`<section class="would-send">
<h4>${message.target} <span class="muted">· ${targetKinds[message.type]} to ${message.to}, by route ${message.route}</span></h4>
${messageHtml(message)}
</section>`;
}

function messageHtml(message: DryRunMessage): Html {
  switch (message.type) {
    case "slack":
      return slackPreview(message);
    case "email":
      // The email's HTML part is drawn in a sandboxed frame (no scripts, no same origin, and the
      // console's CSP inherited: nothing from another origin), never in the page itself.
      return html`<dl class="email-head"><dt>To</dt><dd>${message.to}</dd><dt>Subject</dt><dd>${message.subject}</dd></dl>
<p class="part-name">Text part</p>
<pre>${message.text}</pre>
<p class="part-name">HTML part <span class="muted">(without its inline styles)</span></p>
<iframe class="email-html" sandbox="" srcdoc="${withoutInlineStyles(message.html)}" title="The HTML part of the email to ${message.target}"></iframe>
<details><summary>HTML source</summary><pre>${message.html}</pre></details>`;
    case "http":
      return html`<p class="muted">Request body, as JSON:</p><pre>${JSON.stringify(message.body, null, 2)}</pre>`;
    case "none":
      return html`<p>${message.title}</p>`;
  }
}

/**
 * The frame inherits the console's CSP, which refuses inline styles: left in, each would be
 * refused and reported in the browser's console. The email's HTML is the relay's own (every
 * value in it escaped, quotes too), so a `style="…"` in it is always an attribute of its own.
 */
function withoutInlineStyles(emailHtml: string): string {
  return emailHtml.replace(/\sstyle="[^"]*"/g, "");
}

/** A message of the CLI's (lower case, no full stop) as a sentence on the page. */
function sentence(text: string): string {
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.?!]$/.test(text) ? "" : "."}`;
}
