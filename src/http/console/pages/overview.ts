import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Overview page: not written yet. */
export const overviewPage: ConsolePage = {
  add(router) {
    router.get("/", (ctx) => renderPage(ctx, { title: "Overview", body: html`<p>Not written yet.</p>` }));
  },
};
