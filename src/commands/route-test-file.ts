import { existsSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { isNode, LineCounter, parseDocument } from "yaml";
import { z } from "zod";
import { type ConfigProblem, explainUnknownKeys, formatKey } from "../config/errors.js";
import { explainIssue, lineOf } from "../config/load.js";
import { parseInstant } from "../routing/time-intervals.js";

/**
 * Route tests kept beside the config (`config/tests/*.yaml`), read and validated here: a YAML
 * list of cases, each a payload and the targets it must reach. Problems come with the file,
 * line and key, as the config's do.
 */

/** One fragment, or a list of them: `support-slack: "open → pending"` or `[…, …]`. */
const fragments = z.union([
  z
    .string()
    .min(1, "must not be empty")
    .transform((one) => [one]),
  z.array(z.string().min(1, "must not be empty")).min(1, "list at least one text"),
]);
/** Per target id: texts its message must contain. */
const containsSchema = z.record(z.string(), fragments);

const caseSchema = z.strictObject({
  name: z.string().min(1, "must not be empty"),
  /** A JSON file, relative to the test file, or the webhook body itself. */
  payload: z.union([z.string().min(1, "must not be empty"), z.record(z.string(), z.unknown())]),
  /** The source id it is posted to; by default the first whose platform the payload is from. */
  source: z.string().optional(),
  /** When the webhook counts as received, for routes with `activeDuring` / `mutedDuring`; default now. */
  receivedAt: z
    .string()
    .transform((text, context) => {
      const instant = parseInstant(text);
      if (instant) return instant;
      context.addIssue({
        code: "custom",
        message: 'use an ISO 8601 time with its offset, e.g. "2026-12-24T03:00:00+01:00"',
      });
      return z.NEVER;
    })
    .optional(),
  expect: z.strictObject({
    /** Every target it reaches, in any order; `[]`: none. */
    targets: z.array(z.string()),
    contains: containsSchema.optional(),
  }),
  /** The same as `expect.contains`, one level up. */
  contains: containsSchema.optional(),
});

const fileSchema = z.array(caseSchema).superRefine((cases, context) => {
  const seen = new Set<string>();
  cases.forEach(({ name }, index) => {
    if (seen.has(name)) context.addIssue({ code: "custom", path: [index, "name"], message: `a second case "${name}"` });
    seen.add(name);
  });
});

export interface RouteTestCase {
  name: string;
  /** The body itself, or the JSON file it is in (resolved), with what the test file wrote. */
  payload: { body: unknown } | { file: string; written: string };
  source?: string;
  /** When the webhook counts as received; undefined: now. */
  receivedAt?: Date;
  targets: string[];
  /** Texts per target, from `contains` and `expect.contains` together. */
  contains: Record<string, string[]>;
  /** `config/tests/example.yaml:12`, for the case's result line. */
  at: string;
}

export type RouteTestFile = { file: string; cases: RouteTestCase[] } | { file: string; problems: ConfigProblem[] };

/** Where `test/fixtures/…` is when a test file's folder has none: the package's own samples. */
const packageRoot = fileURLToPath(new URL("../../", import.meta.url));

export async function loadRouteTestFile(file: string): Promise<RouteTestFile> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "file not found" : String(error);
    return { file, problems: [{ file, key: "", message: reason }] };
  }
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
  const at = (offset: number) => lineCounter.linePos(offset);
  if (doc.errors.length > 0) {
    const problems = doc.errors.map((error) => {
      const { line, col } = at(error.pos[0]);
      return { file, line, column: col, key: "", message: `YAML: ${error.message.split("\n")[0]}` };
    });
    return { file, problems };
  }
  const value = doc.toJS();
  if (value === null || value === undefined) {
    return {
      file,
      problems: [
        { file, key: "", message: "no cases: the file is empty (a list of cases, each with name, payload and expect)" },
      ],
    };
  }
  const parsed = fileSchema.safeParse(value, { error: explainUnknownKeys });
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const explained = explainIssue(issue);
      const message =
        explained.path.length === 0 && issue.code === "invalid_type"
          ? "expected a list of cases, each with name, payload and expect"
          : explained.message;
      return { file, key: formatKey(explained.path), message, ...lineOf(doc, explained.path, at) };
    });
    return { file, problems };
  }

  const cases = parsed.data.map((entry, index): RouteTestCase => {
    const node = doc.getIn([index], true);
    const line = isNode(node) && node.range ? at(node.range[0]).line : undefined;
    const contains: Record<string, string[]> = {};
    for (const [target, texts] of [
      ...Object.entries(entry.contains ?? {}),
      ...Object.entries(entry.expect.contains ?? {}),
    ]) {
      contains[target] = [...(contains[target] ?? []), ...texts];
    }
    return {
      name: entry.name,
      payload:
        typeof entry.payload === "string"
          ? { file: payloadPath(file, entry.payload), written: entry.payload }
          : { body: entry.payload },
      ...(entry.source !== undefined && { source: entry.source }),
      ...(entry.receivedAt !== undefined && { receivedAt: entry.receivedAt }),
      targets: entry.expect.targets,
      contains,
      at: line ? `${file}:${line}` : file,
    };
  });
  return { file, cases };
}

/**
 * A payload file is relative to the test file. `test/fixtures/…` that is not there means the
 * samples shipped with the relay, so a test file anywhere can use them.
 */
function payloadPath(testFile: string, written: string): string {
  const beside = resolve(dirname(testFile), written);
  if (existsSync(beside) || !written.startsWith("test/fixtures/")) return beside;
  return resolve(packageRoot, written);
}
