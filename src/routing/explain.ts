import type { MatchCondition } from "./conditions.js";
import type { FieldValue } from "./fields.js";
import type { RouteDecision, UnmetCondition } from "./router.js";

/**
 * Routes and events in words, for people reading `route`, `test` and `check`: why a route
 * does not take an event (`previousStatus is "pending", wanted "open"`), what a route asks for.
 */

/**
 * Why a route did not take an event, as `route --event` prints it: `previousStatus is
 * "pending", wanted "open"`, `muted during nights, which holds at the event's receipt`.
 */
export function describeDecision(decision: Exclude<RouteDecision, { kind: "matched" }>): string {
  switch (decision.kind) {
    case "unmet":
      return describeUnmet(decision.unmet);
    case "inactive": {
      const { activeDuring } = decision;
      return `active only during ${activeDuring.join(" or ")}, which ${activeDuring.length > 1 ? "do" : "does"} not hold at the event's receipt`;
    }
    case "muted":
      return `muted during ${decision.mutedDuring}, which holds at the event's receipt`;
    case "notTried":
      return `${decision.takenBy} took the event and has no continue`;
  }
}

/**
 * The key a route did not take an event on, for a log line: the condition's field
 * (`previousStatus`), `activeDuring` or `mutedDuring`. Undefined for a route that took it or
 * was not tried.
 */
export function unmetKey(decision: RouteDecision): string | undefined {
  switch (decision.kind) {
    case "unmet":
      return decision.unmet.key;
    case "inactive":
      return "activeDuring";
    case "muted":
      return "mutedDuring";
    default:
      return undefined;
  }
}

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
