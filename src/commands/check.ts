import { resolveConfigPath } from "../config/load.js";
import type { Command } from "./command.js";
import { loadOrReport } from "./load-config.js";
import { parseSharedOptions } from "./shared-options.js";

export const check: Command = {
  name: "check",
  help: `Usage: ticket-relay check [--config FILE]

Validates the config and exits: 0 with a summary, or 1 listing every problem with its file,
line and key. Unset \${VAR}s are problems too.`,
  async run(args) {
    const file = resolveConfigPath(parseSharedOptions(args).config);
    const config = await loadOrReport(file);
    if (!config) return 1;
    console.log(
      `${file}: OK — ${count(config.sources, "source")}, ${count(config.targets, "target")}, ${config.routes.length} route${config.routes.length === 1 ? "" : "s"}`,
    );
    return 0;
  },
};

function count(record: Record<string, unknown>, noun: string): string {
  const n = Object.keys(record).length;
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
