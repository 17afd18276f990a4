import type { RouteConfig } from "../config/schema.js";
import type { TimeIntervalConfig, TimeIntervalsConfig } from "../config/time-intervals-schema.js";

/**
 * Whether a named time interval (`timeIntervals:` in the config) holds at an instant. The
 * instant is turned into the interval's local calendar and clock by the platform's Intl with
 * the interval's IANA zone, so daylight saving time is the time zone database's, never ours:
 * on a spring-forward day the skipped hour never occurs locally, and on a fall-back day the
 * repeated hour holds twice.
 */

/** An instant as a wall clock in one time zone shows it. */
export interface LocalTime {
  timeZone: string;
  year: number;
  /** 1 to 12. */
  month: number;
  day: number;
  /** 1 (Monday) to 7 (Sunday). */
  weekday: number;
  /** Minutes since local midnight. */
  minutes: number;
  /** `YYYY-MM-DD`. */
  date: string;
  daysInMonth: number;
}

const weekdayNumbers: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };

/** Reads instants in one zone; the formatter is built once per zone (building one is the slow part). */
function localClock(timeZone: string): (at: Date) => LocalTime {
  const format = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "numeric",
    day: "numeric",
    weekday: "short",
    hour: "numeric",
    minute: "numeric",
  });
  return (at) => {
    const part: Record<string, string> = {};
    for (const { type, value } of format.formatToParts(at)) part[type] = value;
    const [year, month, day] = [Number(part.year), Number(part.month), Number(part.day)];
    const pad = (n: number) => String(n).padStart(2, "0");
    return {
      timeZone,
      year,
      month,
      day,
      weekday: weekdayNumbers[part.weekday ?? ""] ?? 0,
      minutes: Number(part.hour) * 60 + Number(part.minute),
      date: `${year}-${pad(month)}-${pad(day)}`,
      daysInMonth: new Date(Date.UTC(year, month, 0)).getUTCDate(),
    };
  };
}

/** Every field the interval gives must hold; within a field's list, one item is enough. */
export function intervalHolds(interval: TimeIntervalConfig, local: LocalTime): boolean {
  const within = (value: number) => (range: { start: number; end: number }) =>
    value >= range.start && value <= range.end;
  const { weekdays, times, daysOfMonth, months, dates } = interval;
  if (weekdays && !weekdays.some(within(local.weekday))) return false;
  if (months && !months.some(within(local.month))) return false;
  if (times && !times.some((range) => local.minutes >= range.start && local.minutes < range.end)) return false;
  if (dates && !dates.some((range) => local.date >= range.start && local.date <= range.end)) return false;
  if (daysOfMonth) {
    // -1 is the month's last day: counted from the end, it is daysInMonth + 1 + day.
    const fromEnd = local.day - local.daysInMonth - 1;
    if (!daysOfMonth.some((range) => within(range.start < 0 ? fromEnd : local.day)(range))) return false;
  }
  return true;
}

/** Which intervals hold at one instant: asked per name, each computed at most once. */
export type IntervalsAt = (name: string) => boolean;

export interface TimeIntervals {
  readonly names: readonly string[];
  /** The intervals at `at`; an interval the config does not define never holds. */
  at(at: Date): IntervalsAt;
  /** The interval's local time at `at`, as `Thu 2026-12-24 03:00 Europe/Copenhagen`, for people. */
  localTime(name: string, at: Date): string | undefined;
}

export function compileTimeIntervals(config: TimeIntervalsConfig): TimeIntervals {
  const clocks = new Map<string, (at: Date) => LocalTime>();
  const clockOf = (timeZone: string) => {
    let clock = clocks.get(timeZone);
    if (!clock) {
      clock = localClock(timeZone);
      clocks.set(timeZone, clock);
    }
    return clock;
  };
  return {
    names: Object.keys(config),
    at(at) {
      const answers = new Map<string, boolean>();
      const locals = new Map<string, LocalTime>();
      return (name) => {
        const known = answers.get(name);
        if (known !== undefined) return known;
        const interval = config[name];
        let holds = false;
        if (interval) {
          let local = locals.get(interval.timeZone);
          if (!local) {
            local = clockOf(interval.timeZone)(at);
            locals.set(interval.timeZone, local);
          }
          holds = intervalHolds(interval, local);
        }
        answers.set(name, holds);
        return holds;
      };
    },
    localTime(name, at) {
      const interval = config[name];
      if (!interval) return undefined;
      const local = clockOf(interval.timeZone)(at);
      const weekday = Object.keys(weekdayNumbers)[local.weekday - 1] ?? "";
      const clock = `${String(Math.floor(local.minutes / 60)).padStart(2, "0")}:${String(local.minutes % 60).padStart(2, "0")}`;
      return `${weekday} ${local.date} ${clock} ${interval.timeZone}`;
    },
  };
}

type RouteTime = Pick<RouteConfig, "activeDuring" | "mutedDuring">;

/** Why a route is passed over at a time (routing/explain.ts says it in words). */
export type OutsideTime =
  /** None of its `activeDuring` intervals holds. */
  | { kind: "inactive"; activeDuring: readonly string[] }
  /** One of its `mutedDuring` intervals holds: the first one. */
  | { kind: "muted"; mutedDuring: string };

/** Why a route is passed over at this time, or undefined when its time allows it. */
export function routeOutsideTime(route: RouteTime, holds: IntervalsAt): OutsideTime | undefined {
  const { activeDuring, mutedDuring } = route;
  if (activeDuring && !activeDuring.some(holds)) return { kind: "inactive", activeDuring };
  const muting = mutedDuring?.find(holds);
  if (muting) return { kind: "muted", mutedDuring: muting };
  return undefined;
}

/** A route's time check, or undefined for a route that has none (most): the router then skips it. */
export function compileRouteTime(route: RouteTime): ((holds: IntervalsAt) => boolean) | undefined {
  if (!route.activeDuring && !route.mutedDuring) return undefined;
  return (holds) => routeOutsideTime(route, holds) === undefined;
}

/**
 * The instant that counts for an event: when the relay received it, so a backlog drained
 * later is routed as the events were when they arrived. Now, if that cannot be read.
 */
export function receivedAtOf(event: { receivedAt: string }): Date {
  const at = new Date(event.receivedAt);
  return Number.isNaN(at.getTime()) ? new Date() : at;
}

/** `2026-12-24T03:00:00+01:00` or `…Z`, else undefined: a time without its offset would be read in this machine's zone. */
export function parseInstant(text: string): Date | undefined {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$/i.test(text)) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}
