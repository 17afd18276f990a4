import type { MatchCondition } from "./conditions.js";
import type { FieldValue } from "./fields.js";
import type { UnmetCondition } from "./router.js";

/**
 * Routes and events in words, for people reading `route`, `test` and `check`: why a route
 * does not take an event (`previousStatus is "pending", wanted "open"`), what a route asks for.
 */

/** `previousStatus is "pending", wanted "open"`. */
export function describeUnmet({ key, condition, value }: UnmetCondition): string {
  return `${key} is ${describeValue(value)}, wanted ${describeCondition(condition)}`;
}

/** What an event has in a field: `"pending"`, `3`, `["vip", "billing"]`, or `missing`. */
export function describeValue(value: FieldValue): string {
  if (value === undefined) return "missing";
  if (Array.isArray(value)) return `[${value.map((item) => JSON.stringify(item)).join(", ")}]`;
  return JSON.stringify(value);
}

/** What a condition asks for: `"open"`, `one of "pending", "closed"`, `not "spam" and present`. */
export function describeCondition(condition: MatchCondition): string {
  if (Array.isArray(condition)) return oneOf(condition);
  if (typeof condition !== "object") return JSON.stringify(condition);
  const parts: string[] = [];
  const { not, in: anyOf, contains, regex, glob, exists, gt, gte, lt, lte } = condition;
  if (not !== undefined) parts.push(`not ${describeCondition(not)}`);
  if (anyOf !== undefined) parts.push(oneOf(anyOf));
  if (contains !== undefined) {
    parts.push(`containing ${Array.isArray(contains) ? oneOf(contains) : JSON.stringify(contains)}`);
  }
  if (regex !== undefined) parts.push(`matching /${regex}/`);
  if (glob !== undefined) parts.push(`like ${JSON.stringify(glob)}`);
  if (exists !== undefined) parts.push(exists ? "present" : "missing or empty");
  for (const [bound, sign] of [
    [gt, ">"],
    [gte, ">="],
    [lt, "<"],
    [lte, "<="],
  ] as const) {
    if (bound !== undefined) parts.push(`${sign} ${bound}`);
  }
  return parts.join(" and ");
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((value) => JSON.stringify(value)).join(", ");
  return values.length === 1 ? shown : `one of ${shown}`;
}
