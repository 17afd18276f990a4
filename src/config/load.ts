import { readFile } from "node:fs/promises";
import { type Document, isNode, LineCounter, parseDocument } from "yaml";
import type { z } from "zod";
import { ConfigError, type ConfigProblem, closestName, explainUnknownKeys, formatKey } from "./errors.js";
import { interpolate } from "./interpolate.js";
import { type Config, configSchema } from "./schema.js";
import { routeTemplateProblems } from "./template-references.js";
import { timeIntervalReferenceProblems } from "./time-intervals-schema.js";

export const defaultConfigPath = "config/relay.yaml";

/** `--config`, else `RELAY_CONFIG`, else `config/relay.yaml`. */
export function resolveConfigPath(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  return flag ?? env.RELAY_CONFIG ?? defaultConfigPath;
}

export async function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): Promise<Config> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(error);
    throw new ConfigError([{ file, key: "", message: `${reason} (pass --config FILE or set RELAY_CONFIG)` }]);
  }
  return parseConfig(text, file, env);
}

/**
 * YAML text to a validated Config, or a ConfigError listing every problem with its file, line
 * and key: all of them at once, so a user fixes a file in one pass instead of one error a run.
 */
export function parseConfig(text: string, file: string, env: NodeJS.ProcessEnv = process.env): Config {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);

  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((error) => {
        const { line, col } = at(error.pos[0]);
        return { file, line, column: col, key: "", message: `YAML: ${error.message.split("\n")[0]}` };
      }),
    );
  }

  const locate = (path: readonly PropertyKey[], message: string): ConfigProblem => ({
    file,
    key: formatKey(path),
    message,
    ...lineOf(doc, path, at),
  });

  const { value, problems: unset } = interpolate(doc.toJS() ?? {}, env);
  const problems = unset.map((problem) => locate(problem.path, problem.message));

  const parsed = configSchema.safeParse(value, { error: explainUnknownKeys });
  if (!parsed.success) {
    // An unset variable already explains why its value is then empty or malformed.
    const unsetKeys = new Set(unset.map((problem) => formatKey(problem.path)));
    for (const issue of parsed.error.issues) {
      if (unsetKeys.has(formatKey(issue.path))) continue;
      const { path, message } = explainIssue(issue);
      problems.push(locate(path, message));
    }
  }
  problems.push(...crossReferenceProblems(value).map((p) => locate(p.path, p.message)));
  if (problems.length > 0 || !parsed.success) throw new ConfigError(problems);

  const config = parsed.data;
  if (env.PORT) config.server.port = Number(env.PORT);
  if (env.OPS_PORT) config.workers.opsPort = Number(env.OPS_PORT);
  return config;
}

/**
 * What zod cannot see alone: names that must refer to something defined elsewhere in the file.
 * Reads the unvalidated value defensively, so these problems are listed along with the others.
 */
function crossReferenceProblems(value: unknown): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const root = asRecord(value);
  const targetIds = Object.keys(asRecord(root.targets));
  const sourceIds = Object.keys(asRecord(root.sources));
  const routes = Array.isArray(root.routes) ? root.routes : [];
  routes.forEach((route: unknown, r) => {
    const { to, match } = asRecord(route);
    (Array.isArray(to) ? to : []).forEach((target: unknown, t) => {
      if (typeof target === "string" && !targetIds.includes(target)) {
        problems.push({ path: ["routes", r, "to", t], message: unknownName("target", target, targetIds) });
      }
    });
    const source = asRecord(match).source;
    const named = typeof source === "string" ? [source] : Array.isArray(source) ? source : [];
    named.forEach((id: unknown, s) => {
      if (typeof id === "string" && !sourceIds.includes(id)) {
        const path = ["routes", r, "match", "source", ...(Array.isArray(source) ? [s] : [])];
        problems.push({ path, message: unknownName("source", id, sourceIds) });
      }
    });
  });
  problems.push(...fallbackProblems(asRecord(root.targets), targetIds));
  problems.push(...placeholderProblems(asRecord(root.targets)));
  problems.push(...routeTemplateProblems(root));
  problems.push(...timeIntervalReferenceProblems(root, unknownName));
  return problems;
}

/**
 * Values still as `.env.example` ships them: they look filled in, pass every other check, and
 * send nothing anywhere. Said at `check` rather than at the first alert that never arrives.
 */
const placeholderHosts = new Set(["smtp.example.com"]);

function placeholderProblems(targets: Record<string, unknown>) {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  for (const [id, target] of Object.entries(targets)) {
    const smtp = asRecord(target).smtp;
    if (typeof smtp !== "string") continue;
    let host: string;
    try {
      host = new URL(smtp).hostname;
    } catch {
      continue; // the schema says what is wrong with it
    }
    if (placeholderHosts.has(host)) {
      problems.push({
        path: ["targets", id, "smtp"],
        message: `${host} is the placeholder from .env.example: set SMTP_URL to your mail server (smtp://user:password@host:587)`,
      });
    }
  }
  return problems;
}

/**
 * A fallback must name another target, and fallbacks must not go round in a circle: a
 * delivery is sent to its fallback once and never further, so a circle would only hide that
 * both targets are meant to back each other up, which neither can.
 */
function fallbackProblems(targets: Record<string, unknown>, targetIds: string[]) {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const fallbackOf = (id: string) => asRecord(targets[id]).fallback;
  for (const id of targetIds) {
    const fallback = fallbackOf(id);
    if (typeof fallback !== "string") continue;
    const path = ["targets", id, "fallback"];
    if (!targetIds.includes(fallback)) problems.push({ path, message: unknownName("target", fallback, targetIds) });
    else if (fallback === id) problems.push({ path, message: "a target cannot be its own fallback" });
    else {
      const chain = [id];
      for (
        let next: unknown = fallback;
        typeof next === "string" && targetIds.includes(next);
        next = fallbackOf(next)
      ) {
        if (next === id) {
          problems.push({ path, message: `fallbacks go round in a circle: ${[...chain, id].join(" → ")}` });
          break;
        }
        if (chain.includes(next)) break;
        chain.push(next);
      }
    }
  }
  return problems;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

function unknownName(kind: string, name: string, known: string[]): string {
  const guess = closestName(name, known);
  const hint = guess ? ` — did you mean "${guess}"?` : known.length ? ` (defined: ${known.join(", ")})` : "";
  return `unknown ${kind} "${name}"${hint}`;
}

/** The message for one zod issue, and the path of the key it is really about. */
export function explainIssue(issue: z.core.$ZodIssue): { path: PropertyKey[]; message: string } {
  switch (issue.code) {
    case "unrecognized_keys": {
      // Point at the unknown key itself rather than at the object that holds it. The message,
      // with the key that was meant, is explainUnknownKeys's when the parse was given it.
      return { path: [...issue.path, issue.keys[0] as string], message: issue.message };
    }
    case "invalid_type":
      return { path: issue.path, message: / received undefined$/.test(issue.message) ? "required" : issue.message };
    case "invalid_key": {
      const inner = issue.issues[0];
      return { path: issue.path, message: inner ? explainIssue(inner).message : issue.message };
    }
    case "invalid_union": {
      // Explain the alternative the value was evidently meant as: the one that got past the
      // type check ("use a duration like …", an unknown operator), not just "Invalid input".
      const meant = issue.errors.find((branch) => !branch.every(isTypeMismatch));
      const inner = meant?.[0] ?? issue.errors.flat()[0];
      if (!inner) return { path: issue.path, message: issue.message };
      const explained = explainIssue(inner);
      return { path: [...issue.path, ...explained.path], message: explained.message };
    }
    default:
      return { path: issue.path, message: issue.message };
  }
}

/** The value is not even of this alternative's type: nothing more useful to say about it. */
function isTypeMismatch(issue: z.core.$ZodIssue): boolean {
  if (issue.path.length > 0) return false;
  if (issue.code === "invalid_type") return true;
  return issue.code === "invalid_union" && issue.errors.every((branch) => branch.every(isTypeMismatch));
}

/** The line of the deepest node on `path` that exists in the document. */
export function lineOf(
  doc: Document,
  path: readonly PropertyKey[],
  at: (offset: number) => { line: number; col: number },
): { line?: number; column?: number } {
  for (let depth = path.length; depth >= 0; depth--) {
    const node = doc.getIn(path.slice(0, depth) as unknown[], true);
    if (isNode(node) && node.range) {
      const { line, col } = at(node.range[0]);
      return { line, column: col };
    }
  }
  return {};
}
