import { readFile } from "node:fs/promises";
import { formatProblem } from "../config/errors.js";
import { lintConfig } from "../config/lint.js";
import { resolveConfigPath } from "../config/load.js";
import { eventTypesBySourceType } from "../sources/registry.js";
import type { Command } from "./command.js";
import { loadOrReport } from "./load-config.js";
import { counted } from "./output.js";
import { parseSharedOptions } from "./shared-options.js";

export const check: Command = {
  name: "check",
  help: `Usage: ticket-relay check [--strict] [--config FILE]

Validates the config and exits: 0 with a summary, or 1 listing every problem with its file,
line and key. Unset \${VAR}s are problems too.
It also warns, with file and line, about what runs but is likely a mistake: no routes or no
targets (nothing would be delivered; a file cut short looks like this); a route that can
never match because an earlier route without continue takes every event it would; a target
that no route sends to (nor falls back to); a time interval no route names; a match.event that
no configured source emits (unless a generic source could); a source with urlToken: none,
which anyone may post to.
  --strict   exit 1 on warnings too (for CI)`,
  async run(args) {
    // Only check takes --strict; the other options are the ones serve and check share.
    const strict = args.includes("--strict");
    const file = resolveConfigPath(parseSharedOptions(args.filter((arg) => arg !== "--strict")).config);
    const config = await loadOrReport(file);
    if (!config) return 1;
    const warnings = lintConfig(config, await readFile(file, "utf8"), file, eventTypesBySourceType).map(
      (warning) => `warning: ${formatProblem(warning)}`,
    );
    if (strict && warnings.length > 0) {
      console.error(`${file}: ${counted(warnings.length, "warning")}, and --strict fails on warnings`);
      console.error(warnings.join("\n"));
      return 1;
    }
    const summary = `${file}: OK — ${count(config.sources, "source")}, ${count(config.targets, "target")}, ${counted(config.routes.length, "route")}`;
    if (warnings.length === 0) console.log(summary);
    else {
      console.log(`${summary}; ${counted(warnings.length, "warning")} (--strict fails on warnings)`);
      console.error(warnings.join("\n"));
    }
    return 0;
  },
};

function count(record: Record<string, unknown>, noun: string): string {
  return counted(Object.keys(record).length, noun);
}
