import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Webhook page: not written yet. */
export const eventPage: ConsolePage = {
  add(router) {
    router.get("/events/:receiptId", (ctx) =>
      renderPage(ctx, { title: "Webhook", body: html`<p>Not written yet.</p>` }),
    );
  },
};
