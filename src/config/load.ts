import { readFile } from "node:fs/promises";
import { isNode, LineCounter, parseDocument, type Document } from "yaml";
import type { z } from "zod";
import { type ConfigProblem, ConfigError, closestName, formatKey } from "./errors.js";
import { interpolate } from "./interpolate.js";
import { type Config, configSchema } from "./schema.js";

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

  const parsed = configSchema.safeParse(value);
  if (!parsed.success) {
    // An unset variable already explains why its value is then empty or malformed.
    const unsetKeys = new Set(unset.map((problem) => formatKey(problem.path)));
    for (const issue of parsed.error.issues) {
      if (unsetKeys.has(formatKey(issue.path))) continue;
      // Point at the unknown key itself rather than at the object that holds it.
      const path = issue.code === "unrecognized_keys" ? [...issue.path, issue.keys[0] as string] : issue.path;
      problems.push(locate(path, describeIssue(issue)));
    }
    throw new ConfigError(problems);
  }
  problems.push(...crossReferenceProblems(parsed.data).map((p) => locate(p.path, p.message)));
  if (problems.length > 0) throw new ConfigError(problems);

  const config = parsed.data;
  if (env.PORT) config.server.port = Number(env.PORT);
  return config;
}

/** What zod cannot see alone: names that must refer to something defined elsewhere in the file. */
function crossReferenceProblems(config: Config): { path: PropertyKey[]; message: string }[] {
  const problems: { path: PropertyKey[]; message: string }[] = [];
  const targetIds = Object.keys(config.targets);
  const sourceIds = Object.keys(config.sources);
  config.routes.forEach((route, r) => {
    route.to.forEach((target, t) => {
      if (!(target in config.targets)) {
        problems.push({ path: ["routes", r, "to", t], message: unknownName("target", target, targetIds) });
      }
    });
    route.match.source?.forEach((source, s) => {
      if (!(source in config.sources)) {
        const path = ["routes", r, "match", "source", ...(route.match.source?.length === 1 ? [] : [s])];
        problems.push({ path, message: unknownName("source", source, sourceIds) });
      }
    });
  });
  return problems;
}

function unknownName(kind: string, name: string, known: string[]): string {
  const guess = closestName(name, known);
  const hint = guess ? ` — did you mean "${guess}"?` : known.length ? ` (defined: ${known.join(", ")})` : "";
  return `unknown ${kind} "${name}"${hint}`;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === "unrecognized_keys") {
    return `unknown key${issue.keys.length > 1 ? "s" : ""} ${issue.keys.map((k) => `"${k}"`).join(", ")}`;
  }
  if (issue.code === "invalid_type" && issue.input === undefined) return "required";
  return issue.message;
}

/** The line of the deepest node on `path` that exists in the document. */
function lineOf(
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
