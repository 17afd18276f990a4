/**
 * `${VAR}` and `${VAR:-default}` in config values, so that secrets live in the environment and
 * never in YAML. Interpolation runs on parsed values, not on the file's text, so a secret that
 * contains YAML syntax cannot change the document's structure, and line numbers stay true.
 * `$${` is a literal `${`.
 */
export interface InterpolationProblem {
  path: (string | number)[];
  message: string;
}

const reference = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g;

export function interpolate(
  value: unknown,
  env: NodeJS.ProcessEnv,
  path: (string | number)[] = [],
  problems: InterpolationProblem[] = [],
): { value: unknown; problems: InterpolationProblem[] } {
  if (typeof value === "string") {
    return { value: interpolateString(value, env, path, problems), problems };
  }
  if (Array.isArray(value)) {
    return { value: value.map((item, i) => interpolate(item, env, [...path, i], problems).value), problems };
  }
  if (value !== null && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      out[key] = interpolate(item, env, [...path, key], problems).value;
    }
    return { value: out, problems };
  }
  return { value, problems };
}

function interpolateString(
  text: string,
  env: NodeJS.ProcessEnv,
  path: (string | number)[],
  problems: InterpolationProblem[],
): string {
  return text.replace(reference, (whole, name: string | undefined, fallback: string | undefined) => {
    if (whole === "$${") return "${";
    const name_ = name as string;
    const set = env[name_];
    // Shell semantics: `:-` applies when the variable is unset or empty.
    if (fallback !== undefined) return set ? set : fallback;
    // Empty counts as unset: `FOO=` left in a copied .env is a value nobody chose (an empty
    // token would let anyone post). `${FOO:-}` is how to mean "empty is fine".
    if (set === undefined || set === "") {
      const state = set === undefined ? "is not set" : "is empty";
      problems.push({
        path,
        message: `environment variable ${name_} ${state} (set it, or write \${${name_}:-default})`,
      });
      return "";
    }
    return set;
  });
}
