/**
 * Walks a dotted path through JSON. A number picks an array item (`Tags.0.Name`); any other
 * segment applied to an array reads it from every item (`Tags.Name` is every tag's name).
 */
export function readPath(value: unknown, path: readonly string[]): unknown {
  let current = value;
  for (const [index, segment] of path.entries()) {
    if (current === null || current === undefined) return undefined;
    if (Array.isArray(current) && !/^\d+$/.test(segment)) {
      const rest = path.slice(index);
      return current.flatMap((item) => {
        const found = readPath(item, rest);
        return found === undefined ? [] : found;
      });
    }
    // Own keys only: `payload.constructor` must not reach into the prototype.
    if (typeof current !== "object" || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** `data.ticket.id` → `["data", "ticket", "id"]`. */
export function splitPath(path: string): string[] {
  return path.split(".").filter(Boolean);
}
