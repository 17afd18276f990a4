import { type Html, html } from "./html.js";

/** The console's pages, in the order the navigation lists them. */
export const navigation = [
  { path: "/console", label: "Overview" },
  { path: "/console/events", label: "Events" },
  { path: "/console/dead-letters", label: "Dead letters" },
  { path: "/console/mutes", label: "Mutes" },
  { path: "/console/route-tester", label: "Route tester" },
  { path: "/console/config", label: "Config" },
] as const;

export interface PageFrame {
  title: string;
  /** The navigation entry to mark as the current page. */
  current?: (typeof navigation)[number]["path"];
  /** The session's CSRF token: every form that changes something carries it. */
  csrf?: string;
  /** A line at the top saying what the last action did (`?done=…` after a redirect). */
  notice?: string;
  body: Html;
}

/**
 * The frame every page is drawn in: one stylesheet and one script, both from the relay itself
 * (`/console/assets/`), so the console works on a network with no internet and its
 * Content-Security-Policy can say `default-src 'self'`.
 */
export function page({ title, current, csrf, notice, body }: PageFrame): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title} · ticket-relay</title>
<link rel="stylesheet" href="/console/assets/console.css">
<script src="/console/assets/console.js" defer></script>
</head>
<body>
<header class="top">
  <a class="brand" href="/console">ticket-relay</a>
  ${
    csrf === undefined
      ? ""
      : html`<nav aria-label="Console">
    ${navigation.map(
      (entry) =>
        html`<a href="${entry.path}"${entry.path === current ? html` aria-current="page"` : ""}>${entry.label}</a>`,
    )}
  </nav>
  <form class="ticket-search" method="get" action="/console/ticket" role="search">
    <label for="ticket-search" class="hidden">Ticket</label>
    <input id="ticket-search" name="id" placeholder="Ticket id" required>
    <button type="submit">Find</button>
  </form>
  <form method="post" action="/console/logout">
    <input type="hidden" name="csrf" value="${csrf}">
    <button type="submit" class="quiet">Log out</button>
  </form>`
  }
</header>
<main id="main">
${notice ? html`<p class="notice" role="status">${notice}</p>` : ""}
<h1>${title}</h1>
${body}
</main>
</body>
</html>`;
}

/** A hidden CSRF field, for every form that changes something. */
export function csrfField(csrf: string): Html {
  return html`<input type="hidden" name="csrf" value="${csrf}">`;
}
