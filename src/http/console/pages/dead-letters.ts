import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Dead letters page: not written yet. */
export const deadLettersPage: ConsolePage = {
  add(router) {
    router.get("/dead-letters", (ctx) =>
      renderPage(ctx, { title: "Dead letters", body: html`<p>Not written yet.</p>` }),
    );
  },
};
