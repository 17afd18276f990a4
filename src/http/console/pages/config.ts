import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Config page: not written yet. */
export const configPage: ConsolePage = {
  add(router) {
    router.get("/config", (ctx) => renderPage(ctx, { title: "Config", body: html`<p>Not written yet.</p>` }));
  },
};
