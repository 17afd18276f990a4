import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Mutes page: not written yet. */
export const mutesPage: ConsolePage = {
  add(router) {
    router.get("/mutes", (ctx) => renderPage(ctx, { title: "Mutes", body: html`<p>Not written yet.</p>` }));
  },
};
