import { existsSync, readFileSync } from "node:fs";

/**
 * Loads `.env` (variables already set win) and warns about the one trap of its format: in an
 * unquoted value, `#` starts a comment, so `SLACK_CHANNEL=#support` is empty and a token with a
 * `#` in it is silently cut. Returns the warnings it printed, for tests.
 */
export function loadDotEnv(file = ".env", warn: (line: string) => void = console.error): string[] {
  if (!existsSync(file)) return [];
  const warnings: string[] = [];
  readFileSync(file, "utf8")
    .split(/\r?\n/)
    .forEach((line, index) => {
      const match = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
      const [, name, value = ""] = match ?? [];
      if (!name || /^["'`]/.test(value) || !value.includes("#")) return;
      const message = `${file}:${index + 1}: ${name}'s value has a # and no quotes, so everything from the # on is dropped; write ${name}="…"`;
      warnings.push(message);
      warn(message);
    });
  process.loadEnvFile(file);
  return warnings;
}
