import { readFile } from "node:fs/promises";
import { stringify } from "yaml";
import { counted } from "../../../commands/output.js";
import { formatProblem } from "../../../config/errors.js";
import { lintConfig } from "../../../config/lint.js";
import type { Config } from "../../../config/schema.js";
import { eventTypesBySourceType } from "../../../sources/registry.js";
import { type ConsolePage, consoleOf, renderPage } from "../console.js";
import { type Html, html } from "../html.js";
import { maskConfig } from "../masked-config.js";

/**
 * The Config page: the config in force (after `${VAR}`s, defaults and a reload), every secret
 * masked, and what `ticket-relay check` warns about in it, from the same lint.
 */
export const configPage: ConsolePage = {
  add(router) {
    router.get("/config", async (ctx) => {
      const { deps } = consoleOf(ctx);
      const { config } = deps.parts();
      const file = deps.configFile;
      const masked = maskConfig(config);
      const warnings = lintConfig(config, await textOf(file), file ?? "config", eventTypesBySourceType).map((warning) =>
        masked.maskText(formatProblem(warning)),
      );
      renderPage(ctx, {
        title: "Config",
        current: "/console/config",
        body: html`<p>${
          file
            ? html`From <code>${file}</code>: `
            : html`<span class="muted">The relay was started without a file name to show.</span> `
        }${summary(config)}.</p>
<h2>What <code>ticket-relay check</code> says</h2>
${warningsHtml(warnings)}
<h2>In force</h2>
<p class="muted">As the relay runs it: with every default filled in and each <code>\${VAR}</code> replaced,
durations in milliseconds and sizes in bytes. Secrets (tokens, passwords, signing secrets, header values,
passwords and query values in addresses) are shown as ••••••.</p>
<pre class="config"><code>${stringify(masked.config, { lineWidth: 0 })}</code></pre>`,
      });
    });
  },
};

/** The file's text, for the warnings' line numbers; none when it cannot be read now. */
async function textOf(file: string | undefined): Promise<string> {
  if (!file) return "";
  try {
    return await readFile(file, "utf8");
  } catch {
    return "";
  }
}

function summary(config: Config): string {
  return [
    counted(Object.keys(config.sources).length, "source"),
    counted(Object.keys(config.targets).length, "target"),
    counted(config.routes.length, "route"),
  ].join(", ");
}

function warningsHtml(warnings: readonly string[]): Html {
  if (warnings.length === 0) return html`<p class="ok">No warnings.</p>`;
  return html`<p>${counted(warnings.length, "warning")}: the config runs, but likely not as meant
(<code>check --strict</code> fails on these).</p>
<ul class="warnings">${warnings.map((warning) => html`<li class="mono">${warning}</li>`)}</ul>`;
}
