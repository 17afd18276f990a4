/**
 * The console's stylesheet and script, served from the relay itself: nothing is fetched from
 * another origin (no CDN, no web fonts), and the system's fonts are used. Kept as strings in
 * the source, so the compiled relay (dist/) carries them without a build step of their own.
 * A page with a behaviour of its own adds a script of its own (pages/*.ts `script`), joined here.
 */
export const consoleCss = `
:root { color-scheme: light dark; --fg: #1d1f23; --muted: #5c6370; --bg: #fff; --panel: #f4f5f7; --line: #d9dce1;
  --accent: #2457c5; --ok: #137333; --warn: #a05a00; --bad: #b3261e; --held: #6b4fbb; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6e8eb; --muted: #9aa3ad; --bg: #15171a; --panel: #1f2227;
  --line: #353a41; --accent: #7aa2ff; --ok: #5cc27a; --warn: #e3a548; --bad: #ff7b72; --held: #b69cff; } }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.top { display: flex; flex-wrap: wrap; gap: .5rem 1rem; align-items: center; padding: .6rem 1rem; border-bottom: 1px solid var(--line); background: var(--panel); }
.top nav { display: flex; flex-wrap: wrap; gap: .25rem .9rem; flex: 1; }
.top nav a { text-decoration: none; padding: .2rem 0; }
.top nav a[aria-current="page"] { font-weight: 600; border-bottom: 2px solid var(--accent); }
.brand { font-weight: 700; text-decoration: none; color: var(--fg); }
main { padding: 1rem; max-width: 1200px; margin: 0 auto; }
h1 { font-size: 1.4rem; margin: .2rem 0 1rem; }
h2 { font-size: 1.1rem; margin: 1.5rem 0 .5rem; }
h3 { font-size: 1rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { text-align: left; padding: .35rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-size: .85rem; color: var(--muted); font-weight: 600; }
.table-wrap { overflow-x: auto; }
code, pre, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .88em; }
pre { background: var(--panel); padding: .75rem; overflow-x: auto; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
.muted { color: var(--muted); }
.age { white-space: nowrap; }
.hidden { position: absolute; left: -9999px; }
.notice { background: var(--panel); border-left: 4px solid var(--accent); padding: .5rem .75rem; }
.error { border-left-color: var(--bad); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(min(300px, 100%), 1fr)); gap: .75rem; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: .75rem; background: var(--bg); }
.card h3 { margin: 0 0 .4rem; font-size: 1rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; font-size: .8rem; border: 1px solid currentColor; white-space: nowrap; }
.delivered, .ok { color: var(--ok); }
.retrying, .failed, .queued { color: var(--warn); }
.dead, .bad, .no-route { color: var(--bad); }
.held, .dropped, .digested { color: var(--held); }
form.inline { display: inline; }
form.row, .filters { display: flex; flex-wrap: wrap; gap: .5rem; align-items: end; margin: .5rem 0 1rem; }
label { display: block; font-size: .85rem; color: var(--muted); }
input, select, textarea, button { font: inherit; color: inherit; }
input, select, textarea { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: .35rem .5rem; max-width: 100%; }
textarea { width: 100%; min-height: 12rem; font-family: ui-monospace, Menlo, Consolas, monospace; }
button { background: var(--accent); color: #fff; border: 0; border-radius: 6px; padding: .4rem .8rem; cursor: pointer; white-space: nowrap; }
button.quiet { background: transparent; color: var(--accent); border: 1px solid var(--line); }
button.danger { background: var(--bad); }
.ticket-search { display: flex; gap: .3rem; }
.ticket-search input { width: 9rem; }
.login { max-width: 24rem; margin: 3rem auto; }
.login input { width: 100%; margin: .3rem 0 .8rem; }
.steps { list-style: none; padding: 0; margin: .25rem 0 .75rem; }
.steps li { padding: .2rem 0; border-bottom: 1px dashed var(--line); }
@media (max-width: 640px) { main { padding: .6rem; } th, td { padding: .3rem; } .hide-narrow { display: none; }
  /* The navigation on one line that scrolls sideways, under the name and the search: a phone keeps its screen for the page. */
  .top { padding: .4rem .6rem; }
  .top { gap: .4rem .6rem; }
  .top nav { order: 3; flex: 1 0 100%; flex-wrap: nowrap; overflow-x: auto; }
  .top nav a { white-space: nowrap; }
  .ticket-search input { width: 5.5rem; }
  .top button { padding: .3rem .55rem; } }
`;

/** What every page can do: ask before an action that cannot be undone, select all rows. */
export const consoleScript = `
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form instanceof HTMLFormElement ? form.dataset.confirm : undefined;
  if (question && !window.confirm(question)) event.preventDefault();
});
document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || box.dataset.selectAll === undefined) return;
  for (const other of document.querySelectorAll("input[name='" + box.dataset.selectAll + "']")) other.checked = box.checked;
});
`;
