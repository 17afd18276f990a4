import type { z } from "zod";

/** One thing wrong with the config, located so the user can jump to it. */
export interface ConfigProblem {
  file: string;
  line?: number;
  column?: number;
  /** `routes[0].to[1]` */
  key: string;
  message: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: ConfigProblem[]) {
    super(problems.map(formatProblem).join("\n"));
    this.name = "ConfigError";
  }
}

export function formatProblem(problem: ConfigProblem): string {
  const where = problem.line ? `${problem.file}:${problem.line}:${problem.column ?? 1}` : problem.file;
  return problem.key ? `${where} ${problem.key}: ${problem.message}` : `${where} ${problem.message}`;
}

export function formatKey(path: readonly PropertyKey[]): string {
  return path
    .map((part, i) => (typeof part === "number" ? `[${part}]` : i === 0 ? String(part) : `.${String(part)}`))
    .join("");
}

/** The closest known name to a typo, if it is close enough to be what the user meant. */
export function closestName(typo: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(typo.length / 3)) + 1;
  for (const name of known) {
    const distance = editDistance(typo.toLowerCase(), name.toLowerCase());
    if (distance < bestDistance) {
      best = name;
      bestDistance = distance;
    }
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] as number;
}

/**
 * A zod error map (pass it to `safeParse`) that says, for a key an object does not know, which
 * of that object's keys was meant: `chanel_id` → `channel`, `api_url` → `apiUrl`. Else it lists
 * the keys there are, so the user need not open the docs to fix a typo. Other issues keep zod's
 * message.
 */
export const explainUnknownKeys: z.core.$ZodErrorMap = (issue) => {
  if (issue.code !== "unrecognized_keys") return undefined;
  const shape = (issue.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
  const allowed = shape ? Object.keys(shape) : [];
  const guesses = issue.keys.map((key) => [key, meantKey(key, allowed)] as const);
  const named = guesses.map(([key, guess]) =>
    guess && issue.keys.length > 1 ? `"${key}" (did you mean "${guess}"?)` : `"${key}"`,
  );
  const what = `unknown key${issue.keys.length > 1 ? "s" : ""} ${named.join(", ")}`;
  const single = guesses.length === 1 ? guesses[0]?.[1] : undefined;
  if (single) return `${what} — did you mean "${single}"?`;
  if (guesses.every(([, guess]) => guess) || allowed.length === 0) return what;
  return `${what} (keys here: ${allowed.join(", ")})`;
};

/** closestName, and failing that the same without an `_id` or `Id` a user added from an API's naming. */
function meantKey(key: string, allowed: readonly string[]): string | undefined {
  const bare = key.replace(/[_-]?id$/i, "");
  return closestName(key, allowed) ?? (bare && bare !== key ? closestName(bare, allowed) : undefined);
}
