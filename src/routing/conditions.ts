import type { FieldValue } from "./fields.js";

/**
 * What a route's `match` can say about one field (docs/configuration.md, "Matching"):
 * a value, a list meaning any of them, or an object of operators that must all hold.
 */
export type Scalar = string | number | boolean;
export type MatchCondition = Scalar | Scalar[] | MatchOperators;
export interface MatchOperators {
  not?: MatchCondition;
  /** Any of these equals the value or, for a list field, one of its items. */
  in?: Scalar[];
  /** A list field holds one of these; a text field contains one of them as a substring. */
  contains?: Scalar | Scalar[];
  regex?: string;
  /** `*` matches any run of characters, `?` one character. */
  glob?: string;
  /** True: the field is there and not empty. False: it is missing or empty. */
  exists?: boolean;
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
}
export const operatorNames = ["not", "in", "contains", "regex", "glob", "exists", "gt", "gte", "lt", "lte"] as const;

export type ValueTest = (value: FieldValue) => boolean;

/**
 * Compiles a condition once, at config load, into a test of one field's value: regexes and
 * globs are built here, never per event. `globByDefault` makes a plain string with `*` a
 * glob, as it is for event names (`event: "reply_*"`).
 */
export function compileCondition(condition: MatchCondition, globByDefault = false): ValueTest {
  if (Array.isArray(condition)) return anyItem(equalsAny(condition, globByDefault));
  if (typeof condition !== "object") return anyItem(equalsAny([condition], globByDefault));

  const tests: ValueTest[] = [];
  const { not, in: oneOf, contains, regex, glob, exists, gt, gte, lt, lte } = condition;
  if (not !== undefined) {
    const inner = compileCondition(not, globByDefault);
    tests.push((value) => !inner(value));
  }
  if (oneOf !== undefined) tests.push(anyItem(equalsAny(oneOf, false)));
  if (contains !== undefined) tests.push(containsAny(Array.isArray(contains) ? contains : [contains]));
  if (regex !== undefined) {
    const pattern = new RegExp(regex);
    tests.push(anyItem((item) => pattern.test(item)));
  }
  if (glob !== undefined) {
    const pattern = globToRegExp(glob);
    tests.push(anyItem((item) => pattern.test(item)));
  }
  if (exists !== undefined) tests.push((value) => isPresent(value) === exists);
  const bounds: [number | undefined, (a: number, b: number) => boolean][] = [
    [gt, (a, b) => a > b],
    [gte, (a, b) => a >= b],
    [lt, (a, b) => a < b],
    [lte, (a, b) => a <= b],
  ];
  for (const [bound, compare] of bounds) {
    if (bound === undefined) continue;
    tests.push(
      anyItem((item) => {
        const number = Number(item);
        return item.trim() !== "" && !Number.isNaN(number) && compare(number, bound);
      }),
    );
  }
  return (value) => tests.every((test) => test(value));
}

export function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`);
}

/** Text tests see a list field item by item: the field matches when any item does. */
function anyItem(test: (item: string) => boolean): ValueTest {
  return (value) => {
    if (value === undefined) return false;
    if (Array.isArray(value)) return value.some((item) => test(item));
    return test(String(value));
  };
}

function equalsAny(wanted: readonly Scalar[], globByDefault: boolean): (item: string) => boolean {
  const exact = new Set<string>();
  const patterns: RegExp[] = [];
  for (const one of wanted) {
    const text = String(one);
    if (globByDefault && /[*?]/.test(text)) patterns.push(globToRegExp(text));
    else exact.add(text);
  }
  return (item) => exact.has(item) || patterns.some((pattern) => pattern.test(item));
}

function containsAny(wanted: readonly Scalar[]): ValueTest {
  const needles = wanted.map(String);
  return (value) => {
    if (value === undefined) return false;
    if (Array.isArray(value)) return value.some((item) => needles.includes(item));
    const text = String(value);
    return needles.some((needle) => text.includes(needle));
  };
}

function isPresent(value: FieldValue): boolean {
  if (value === undefined || value === "") return false;
  return !(Array.isArray(value) && value.length === 0);
}
