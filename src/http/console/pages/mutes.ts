import { parseDuration } from "../../../config/duration.js";
import { type ListedMute, type MuteKind, muteSubjects, resolveMuteSubject } from "../../../queue/mutes.js";
import { HttpError } from "../../body.js";
import { type ConsolePage, consoleOf, formOf, logAction, redirectDone, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import { csrfField } from "../layout.js";
import { timeHtml } from "../story-html.js";

/** The lengths the form offers; any other ("90m", "2d") can be typed. */
const lengthChoices = ["15m", "1h", "4h", "1d"];

/**
 * The Mutes page: the mutes in force, each with End mute, and a form to mute a target or a
 * route for a while. The same calls as `ticket-relay mute` and `unmute` (queue/mutes.ts).
 * `POST /console/mutes/end` (`kind`, `name`) is also where other pages' Unmute buttons post.
 */
export const mutesPage: ConsolePage = {
  add(router) {
    router.get("/mutes", async (ctx) => {
      const { deps, csrf } = consoleOf(ctx);
      const mutes = await deps.mutes.list();
      const subjects = muteSubjects(deps.parts().config);
      renderPage(ctx, {
        title: "Mutes",
        current: "/console/mutes",
        body: html`<p class="muted">A muted target or route has its deliveries held, using none of their tries, and
sent when the mute ends; or dropped, if the mute says so. Every worker sees a new mute within a second.</p>
<h2>In force</h2>
${mutes.length === 0 ? html`<p>Nothing is muted.</p>` : mutesTable(mutes, csrf)}
<h2>Mute a target or a route</h2>
${muteForm(subjects, csrf)}`,
      });
    });

    router.post("/mutes", async (ctx) => {
      const form = formOf(ctx);
      const { deps } = consoleOf(ctx);
      const subject = resolveMuteSubject(form.get("subject") ?? "", muteSubjects(deps.parts().config));
      if ("problem" in subject) throw new HttpError(400, subject.problem);
      const length = (form.get("forOther") ?? "").trim() || (form.get("for") ?? "").trim();
      const forMs = lengthMs(length);
      const reason = (form.get("reason") ?? "").trim() || undefined;
      const drop = form.has("drop");
      const { mute, replaced } = await deps.mutes.mute(subject, { forMs, reason, drop });
      logAction(ctx, replaced ? "mute replaced" : "mute set", { ...subject, until: mute.until, reason, drop });
      const what = drop ? "dropped" : "held, and sent when it ends";
      redirectDone(
        ctx,
        backTo(form),
        `muted ${subject.kind} ${subject.name} for ${length}${replaced ? " (the mute it had is replaced)" : ""}; its deliveries are ${what}`,
      );
    });

    router.post("/mutes/end", async (ctx) => {
      const form = formOf(ctx);
      const { deps } = consoleOf(ctx);
      const kind = form.get("kind");
      if (kind !== "target" && kind !== "route")
        throw new HttpError(400, 'say which mute to end: kind "target" or "route", and its name');
      const subject = resolveMuteSubject(
        `${kind satisfies MuteKind}:${form.get("name") ?? ""}`,
        muteSubjects(deps.parts().config),
        await deps.mutes.active(),
      );
      if ("problem" in subject) throw new HttpError(400, subject.problem);
      const { removed, released } = await deps.mutes.unmute(subject);
      logAction(ctx, "mute ended", { ...subject, removed, released });
      const done =
        !removed && released === 0
          ? `${subject.kind} ${subject.name} was not muted`
          : `ended the mute of ${subject.kind} ${subject.name}: ${released === 1 ? "1 held delivery" : `${released} held deliveries`} sent now`;
      redirectDone(ctx, backTo(form), done);
    });
  },
  css: `
form.mute { display: grid; gap: .6rem; max-width: 34rem; }
form.mute .lengths { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; }
form.mute input[type="text"] { width: 100%; }
form.mute label.check { display: flex; gap: .4rem; align-items: center; color: inherit; font-size: inherit; }
`,
};

/** How long, from the form: "1h", "90m"; more than none. */
function lengthMs(length: string): number {
  let ms: number;
  try {
    ms = parseDuration(length);
  } catch {
    throw new HttpError(400, `a mute lasts a duration such as 15m, 90m, 4h or 2d, not "${length}"`);
  }
  if (ms <= 0) throw new HttpError(400, "a mute must last longer than 0");
  return ms;
}

/**
 * Back to the page the button was on (the overview's Unmute posts here too), when it says so
 * and is a page of the console; else to the mutes.
 */
function backTo(form: URLSearchParams): string {
  const back = form.get("back");
  return back && /^\/console(\/|\?|$)/.test(back) && !back.startsWith("//") ? back : "/console/mutes";
}

function mutesTable(mutes: readonly ListedMute[], csrf: string): Html {
  const now = Date.now();
  return html`<div class="table-wrap"><table class="mutes">
<thead><tr><th scope="col">Muted</th><th scope="col">Until</th><th scope="col">Since</th><th scope="col">Reason</th>
<th scope="col">Its deliveries</th><th scope="col"><span class="hidden">Action</span></th></tr></thead>
<tbody>${mutes.map(
    (mute) => html`<tr>
  <td>${mute.kind} <strong class="mono">${mute.name}</strong></td>
  <td>${timeHtml(mute.until, now)}</td>
  <td>${timeHtml(mute.since, now)}</td>
  <td>${mute.reason ?? html`<span class="muted">none given</span>`}</td>
  <td>${mute.drop ? html`<span class="badge dropped">dropped</span>` : html`<span class="badge held">${mute.held} held</span>`}</td>
  <td><form class="inline" method="post" action="/console/mutes/end">
    ${csrfField(csrf)}<input type="hidden" name="kind" value="${mute.kind}"><input type="hidden" name="name" value="${mute.name}">
    <button type="submit" aria-label="End mute of ${mute.kind} ${mute.name}">End mute</button>
  </form></td>
</tr>`,
  )}</tbody>
</table></div>`;
}

function muteForm(subjects: { targets: string[]; routes: string[] }, csrf: string): Html {
  if (subjects.targets.length + subjects.routes.length === 0) {
    return html`<p class="muted">The config has no targets or routes to mute.</p>`;
  }
  return html`<form class="mute" method="post" action="/console/mutes">
  ${csrfField(csrf)}
  <div><label for="mute-subject">Target or route</label>
  <select id="mute-subject" name="subject" required>
    ${subjects.targets.length > 0 ? html`<optgroup label="Targets">${subjects.targets.map((name) => html`<option value="target:${name}">${name}</option>`)}</optgroup>` : ""}
    ${subjects.routes.length > 0 ? html`<optgroup label="Routes">${subjects.routes.map((name) => html`<option value="route:${name}">${name}</option>`)}</optgroup>` : ""}
  </select></div>
  <div class="lengths">
    <div><label for="mute-for">For</label>
    <select id="mute-for" name="for">${lengthChoices.map((length) => html`<option value="${length}"${length === "1h" ? html` selected` : ""}>${length}</option>`)}</select></div>
    <div><label for="mute-for-other">or another length</label>
    <input id="mute-for-other" name="forOther" type="text" placeholder="90m" size="8"></div>
  </div>
  <div><label for="mute-reason">Reason</label>
  <input id="mute-reason" name="reason" type="text" maxlength="500" placeholder="CRM maintenance until 14:00"></div>
  <label class="check" for="mute-drop"><input id="mute-drop" name="drop" type="checkbox" value="yes"> Drop its deliveries instead of holding them</label>
  <div><button type="submit">Mute</button></div>
</form>`;
}
