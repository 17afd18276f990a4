import { existsSync, readFileSync } from "node:fs";

/**
 * `.env`, read by Docker Compose's rules (its env-file syntax, docs.docker.com/compose/env-file/),
 * so that one file means the same to `npm start` and `docker compose
 * up`: a `#` starts a comment only at the start of a line or after whitespace
 * (`SLACK_CHANNEL=#help-desk` is `#help-desk`); a double-quoted value may hold `#`, spaces, the
 * escapes `\n`, `\r`, `\t`, `\\` and `\"`, and run over several lines; a single-quoted value is
 * taken as written (`\'` aside); after a closing quote only a comment may follow. Compose's
 * `${VAR}` interpolation inside `.env` values is not done here.
 */

/** One line's variable, or why a line was skipped. */
export interface DotEnvEntry {
  name: string;
  value: string;
  /** 1-based line where the variable starts. */
  line: number;
}

export interface ParsedDotEnv {
  entries: DotEnvEntry[];
  /** Lines whose value looks cut short, or that cannot be read: `<line>: <what and how to fix it>`. */
  problems: { line: number; message: string }[];
}

const assignment = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/;

export function parseDotEnv(text: string): ParsedDotEnv {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const entries: DotEnvEntry[] = [];
  const problems: ParsedDotEnv["problems"] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index] ?? "";
    if (/^\s*(#|$)/.test(line)) continue;
    const match = assignment.exec(line);
    if (!match) {
      // `NAME` alone takes NAME from the environment in Compose: nothing to set here.
      if (!/^\s*(?:export\s+)?[A-Za-z_][A-Za-z0-9_]*\s*$/.test(line)) {
        problems.push({ line: index + 1, message: "not NAME=value: skipped" });
      }
      continue;
    }
    const [, name = "", rest = ""] = match;
    const quote = rest[0];
    if (quote === '"' || quote === "'") {
      const read = readQuoted(lines, index, line.length - rest.length + 1, quote);
      if (!read) {
        problems.push({ line: index + 1, message: `${name}'s value opens a ${quote} and never closes it: skipped` });
        continue;
      }
      if (!/^\s*(#.*)?$/.test(read.after)) {
        problems.push({
          line: index + 1,
          message: `${name}: after the closing ${quote} only a comment may follow ("${read.after.trim()}" is dropped)`,
        });
      }
      entries.push({ name, value: read.value, line: index + 1 });
      index = read.endLine;
      continue;
    }
    // Unquoted: a comment starts at a # that follows whitespace.
    const comment = /\s#/.exec(rest);
    const value = (comment ? rest.slice(0, comment.index) : rest).trimEnd();
    if (comment && /^#\S/.test(rest.slice(comment.index + 1))) {
      problems.push({
        line: index + 1,
        message: `${name}'s value ends before " ${rest.slice(comment.index + 1).split(/\s/)[0]}": a # after a space starts a comment; if it is part of the value, write ${name}="…"`,
      });
    }
    entries.push({ name, value, line: index + 1 });
  }
  return { entries, problems };
}

/** A quoted value from `start` (just past its opening quote), over as many lines as it takes. */
function readQuoted(
  lines: readonly string[],
  firstLine: number,
  start: number,
  quote: '"' | "'",
): { value: string; after: string; endLine: number } | undefined {
  let value = "";
  let position = start;
  for (let index = firstLine; index < lines.length; index++) {
    const line = lines[index] ?? "";
    while (position < line.length) {
      const char = line[position] as string;
      if (char === "\\" && position + 1 < line.length) {
        const next = line[position + 1] as string;
        const escaped = quote === '"' ? doubleQuotedEscapes[next] : next === "'" ? "'" : undefined;
        if (escaped !== undefined) {
          value += escaped;
          position += 2;
          continue;
        }
      }
      if (char === quote) return { value, after: line.slice(position + 1), endLine: index };
      value += char;
      position += 1;
    }
    // Only a double-quoted value runs over lines, as Compose reads it.
    if (quote === "'") return undefined;
    value += "\n";
    position = 0;
  }
  return undefined;
}

const doubleQuotedEscapes: Readonly<Record<string, string>> = { n: "\n", r: "\r", t: "\t", "\\": "\\", '"': '"' };

/**
 * Loads `.env` (variables already set win) and warns, with file and line, about a value that
 * looks cut short and a line that cannot be read. Returns the warnings it printed, for tests.
 */
export function loadDotEnv(file = ".env", warn: (line: string) => void = console.error): string[] {
  if (!existsSync(file)) return [];
  const { entries, problems } = parseDotEnv(readFileSync(file, "utf8"));
  const warnings = problems.map(({ line, message }) => `${file}:${line}: ${message}`);
  for (const warning of warnings) warn(warning);
  for (const { name, value } of entries) {
    if (process.env[name] === undefined) process.env[name] = value;
  }
  return warnings;
}
