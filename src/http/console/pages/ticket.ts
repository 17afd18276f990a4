import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Ticket page: not written yet. */
export const ticketPage: ConsolePage = {
  add(router) {
    router.get("/ticket", (ctx) => renderPage(ctx, { title: "Ticket", body: html`<p>Not written yet.</p>` }));
  },
};
