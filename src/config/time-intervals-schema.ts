import { z } from "zod";
import { closestName } from "./errors.js";

/**
 * `timeIntervals:` and a route's `activeDuring` / `mutedDuring` (docs/configuration.md, "Time
 * intervals"). The semantics follow Alertmanager's time intervals: every field an interval
 * gives must hold, one item of a field's list is enough, and a field left out holds always.
 * Values are checked and turned into numbers here, so a bad weekday, an unknown time zone or
 * a range that ends before it starts is a config error with its line, and evaluation
 * (routing/time-intervals.ts) only compares numbers.
 */

/** An inclusive range of whole numbers: weekdays 1 (Monday) to 7, months 1 to 12, days ±1 to 31. */
export interface NumberRange {
  start: number;
  end: number;
}
/** Minutes since local midnight, the start included and the end not: 08:00–17:00 ends at 16:59. */
export type MinuteRange = NumberRange;
/** Calendar dates as `YYYY-MM-DD`, both included. */
export interface DateRange {
  start: string;
  end: string;
}

export const weekdayNames = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
export const monthNames = [
  "january",
  "february",
  "march",
  "april",
  "may",
  "june",
  "july",
  "august",
  "september",
  "october",
  "november",
  "december",
];

/** The time zones this Node knows (IANA names), for "did you mean". */
function knownTimeZones(): string[] {
  return ["UTC", ...Intl.supportedValuesOf("timeZone")];
}

/** The IANA name as Intl spells it (`europe/copenhagen` → `Europe/Copenhagen`), or undefined when unknown. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat("en-US", { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

const timeZone = z.string().transform((name, context) => {
  const canonical = canonicalTimeZone(name);
  if (canonical) return canonical;
  const guess = closestName(name, knownTimeZones());
  const hint = guess
    ? ` — did you mean "${guess}"?`
    : " (use an IANA name such as Europe/Copenhagen or America/New_York)";
  context.addIssue({ code: "custom", message: `unknown time zone "${name}"${hint}` });
  return z.NEVER;
});

/**
 * `monday:friday`, `saturday`, `1:3`, `12`: one value or an inclusive range of them, by name
 * (any case, or its first three letters) or number. `what` names the values in messages; ranges must not wrap around.
 */
function rangeOf(what: string, names: readonly string[] | undefined, min: number, max: number, example: string) {
  const numberOf = (text: string): number | undefined => {
    const word = text.trim().toLowerCase();
    if (names) {
      // The whole name, or its first three letters or more: `mon`, `wed`, `dec`, `sept`.
      const matching = word.length >= 3 ? names.filter((name) => name.startsWith(word)) : [];
      if (matching.length === 1) return names.indexOf(matching[0] as string) + 1;
    }
    if (!/^-?\d+$/.test(word)) return undefined;
    const value = Number(word);
    return value >= min && value <= max && value !== 0 ? value : undefined;
  };
  return z.union([z.number().int(), z.string()]).transform((input, context): NumberRange => {
    const text = String(input);
    const parts = text.split(":");
    const values = parts.map(numberOf);
    const unknown = parts.find((_, i) => values[i] === undefined);
    if (parts.length > 2 || unknown !== undefined) {
      const guess = names && unknown !== undefined ? closestName(unknown.trim(), names) : undefined;
      const hint = guess ? ` — did you mean "${guess}"?` : ` (use e.g. ${example})`;
      context.addIssue({ code: "custom", message: `not a ${what} or range of them: "${text}"${hint}` });
      return z.NEVER;
    }
    const start = values[0] as number;
    const end = (values[1] ?? start) as number;
    if (Math.sign(start) !== Math.sign(end)) {
      context.addIssue({
        code: "custom",
        message: `"${text}" mixes days counted from the start and from the end of the month; list them apart`,
      });
      return z.NEVER;
    }
    if (start > end) {
      context.addIssue({
        code: "custom",
        message: `"${text}" ends before it starts; a range does not wrap around, so list it as two (e.g. ${example})`,
      });
      return z.NEVER;
    }
    return { start, end };
  });
}

const weekdayRange = rangeOf("weekday", weekdayNames, 1, 7, '"saturday:sunday" or [friday, monday]');
const monthRange = rangeOf("month", monthNames, 1, 12, '"november:december", "january:february"');
/** 1 to 31, or -1 (the last day of the month) to -31. */
const dayOfMonthRange = rangeOf("day of the month", undefined, -31, 31, '"1:7" or "-7:-1" (the last week)');

const clockPattern = /^(\d{1,2}):(\d{2})$/;
/** `HH:MM` as minutes since midnight; `24:00` is the end of the day. */
const clock = z.string().transform((text, context) => {
  const match = clockPattern.exec(text.trim());
  const minutes = match ? Number(match[1]) * 60 + Number(match[2]) : Number.NaN;
  if (!match || Number(match[2]) > 59 || minutes > 24 * 60) {
    context.addIssue({ code: "custom", message: `not a time of day: "${text}" (use "HH:MM", 00:00 to 24:00)` });
    return z.NEVER;
  }
  return minutes;
});
const timeRange = z
  .strictObject({ start: clock, end: clock })
  .refine(
    ({ start, end }) => start < end,
    'start must be before end; for a range past midnight list two, e.g. { start: "17:00", end: "24:00" } and { start: "00:00", end: "08:00" }',
  );

const datePattern = /^(\d{4})-(\d{2})-(\d{2})$/;
function isCalendarDate(text: string): boolean {
  const match = datePattern.exec(text);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
/** `2026-12-24`, or `2026-12-24:2026-12-26` for several days. */
const dateRange = z.string().transform((text, context): DateRange => {
  const [start = "", end = start, ...more] = text.trim().split(":");
  const bad = [start, end].find((date) => !isCalendarDate(date));
  if (more.length > 0 || bad !== undefined) {
    context.addIssue({
      code: "custom",
      message: `not a date: "${bad ?? text}" (use "YYYY-MM-DD", or "YYYY-MM-DD:YYYY-MM-DD" for several days)`,
    });
    return z.NEVER;
  }
  if (start > end) {
    context.addIssue({ code: "custom", message: `"${text}" ends before it starts` });
    return z.NEVER;
  }
  return { start, end };
});

const someOf = <T extends z.ZodType>(item: T) =>
  z.array(item).min(1, "list at least one, or leave the key out").optional();

const timeIntervalSchema = z
  .strictObject({
    /** The IANA zone the times, days and dates are in; daylight saving time is the zone's. */
    timeZone: timeZone.default("UTC"),
    weekdays: someOf(weekdayRange),
    times: someOf(timeRange),
    daysOfMonth: someOf(dayOfMonthRange),
    months: someOf(monthRange),
    /** Whole days, e.g. holidays. */
    dates: someOf(dateRange),
  })
  .refine(
    ({ weekdays, times, daysOfMonth, months, dates }) => [weekdays, times, daysOfMonth, months, dates].some(Boolean),
    "give at least one of weekdays, times, daysOfMonth, months or dates",
  );
export type TimeIntervalConfig = z.infer<typeof timeIntervalSchema>;

/** Top-level `timeIntervals:`, by name. */
export const timeIntervalsSchema = z
  .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]*$/, "use letters, digits, - and _"), timeIntervalSchema)
  .default({});
export type TimeIntervalsConfig = z.infer<typeof timeIntervalsSchema>;

const intervalNames = z.array(z.string().min(1)).min(1, "name at least one time interval, or leave the key out");
/** Keys a route has for time: spread into the route schema. */
export const routeTimeKeys = {
  /** The route is tried only while one of these intervals holds (at the event's receipt). */
  activeDuring: intervalNames.optional(),
  /** The route is passed over while any of these intervals holds (at the event's receipt). */
  mutedDuring: intervalNames.optional(),
};

/**
 * Interval names a route uses that `timeIntervals` does not define, found on the unvalidated
 * value as the other cross-references are (config/load.ts), so they are listed with the rest.
 */
export function timeIntervalReferenceProblems(
  root: Record<string, unknown>,
  unknownName: (kind: string, name: string, known: string[]) => string,
): { path: PropertyKey[]; message: string }[] {
  const intervals = root.timeIntervals;
  const defined =
    intervals !== null && typeof intervals === "object" && !Array.isArray(intervals) ? Object.keys(intervals) : [];
  const routes = Array.isArray(root.routes) ? root.routes : [];
  const problems: { path: PropertyKey[]; message: string }[] = [];
  routes.forEach((route: unknown, r) => {
    if (route === null || typeof route !== "object") return;
    for (const key of ["activeDuring", "mutedDuring"] as const) {
      const names = (route as Record<string, unknown>)[key];
      (Array.isArray(names) ? names : []).forEach((name: unknown, n) => {
        if (typeof name === "string" && !defined.includes(name)) {
          problems.push({ path: ["routes", r, key, n], message: unknownName("time interval", name, defined) });
        }
      });
    }
  });
  return problems;
}
