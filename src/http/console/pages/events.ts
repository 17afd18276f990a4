import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Events page: not written yet. */
export const eventsPage: ConsolePage = {
  add(router) {
    router.get("/events", (ctx) => renderPage(ctx, { title: "Events", body: html`<p>Not written yet.</p>` }));
  },
};
