import { type ConsolePage, renderPage } from "../console.js";
import { html } from "../html.js";

/** The Route tester page: not written yet. */
export const routeTesterPage: ConsolePage = {
  add(router) {
    router.get("/route-tester", (ctx) =>
      renderPage(ctx, { title: "Route tester", body: html`<p>Not written yet.</p>` }),
    );
  },
};
