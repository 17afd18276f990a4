import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { lintConfig } from "../src/config/lint.js";
import { parseConfig } from "../src/config/load.js";
import { compileRoutes } from "../src/routing/router.js";
import { header, shifts, statusChangeAt } from "./support/time-intervals.js";

/**
 * `timeIntervals`, `activeDuring` and `mutedDuring`: routes that depend on when an event was
 * received. Each event carries its own `receivedAt`, so no test waits for a time of day.
 */
function targetsAt(yaml: string, receivedAt: string): string[] {
  const config = parseConfig(yaml, "relay.yaml", {});
  return compileRoutes(config.routes, config.timeIntervals)
    .match(statusChangeAt(receivedAt))
    .map((delivery) => delivery.targetId);
}

function problemsOf(yaml: string): string[] {
  try {
    parseConfig(yaml, "relay.yaml", {});
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  return [];
}

describe("time-based routing", () => {
  it("sends an event received at 03:00 in Copenhagen to the on-call email and not to Slack", () => {
    expect(targetsAt(shifts, "2026-11-25T03:00:00+01:00")).toEqual(["oncall-email"]);
  });

  it("sends the same event received at 10:00 in Copenhagen to Slack and not to the on-call email", () => {
    expect(targetsAt(shifts, "2026-11-25T10:00:00+01:00")).toEqual(["support-slack"]);
  });

  it("counts the start of a time range in and its end out, in the interval's zone rather than UTC", () => {
    // 07:00Z is 08:00 in Copenhagen in winter: in; 16:00Z is 17:00: out.
    expect(targetsAt(shifts, "2026-11-25T07:00:00Z")).toEqual(["support-slack"]);
    expect(targetsAt(shifts, "2026-11-25T06:59:00Z")).toEqual(["oncall-email"]);
    expect(targetsAt(shifts, "2026-11-25T15:59:00Z")).toEqual(["support-slack"]);
    expect(targetsAt(shifts, "2026-11-25T16:00:00Z")).toEqual(["oncall-email"]);
  });

  it("keeps weekends out of monday:friday", () => {
    expect(targetsAt(shifts, "2026-11-28T10:00:00+01:00")).toEqual(["oncall-email"]);
    expect(targetsAt(shifts, "2026-11-27T10:00:00+01:00")).toEqual(["support-slack"]);
  });

  it("mutes the office route on a holiday, in business hours, so the on-call email gets it", () => {
    expect(targetsAt(shifts, "2026-12-24T10:00:00+01:00")).toEqual(["oncall-email"]);
    expect(targetsAt(shifts, "2026-12-23T10:00:00+01:00")).toEqual(["support-slack"]);
  });

  it("sends nothing on a holiday when no later route takes the event", () => {
    const officeOnly = shifts.replace(/ {2}- name: on-call[\s\S]*$/, "");
    expect(targetsAt(officeOnly, "2026-12-25T10:00:00+01:00")).toEqual([]);
  });

  describe("on the daylight-saving days of Europe/Copenhagen", () => {
    const night = `${header}timeIntervals:
  night:
    timeZone: Europe/Copenhagen
    times: [{ start: "00:00", end: "02:30" }]
routes:
  - { name: night, activeDuring: [night], to: [oncall-email] }
  - { name: day, to: [support-slack] }
`;
    it.each([
      // 2026-03-29: at 01:00Z the clock jumps from 02:00 CET to 03:00 CEST.
      ["2026-03-29T00:29:00Z", "01:29 CET", "oncall-email"],
      ["2026-03-29T00:59:00Z", "01:59 CET, the last minute before the jump", "oncall-email"],
      ["2026-03-29T01:00:00Z", "03:00 CEST: 02:00–02:30 never happened", "support-slack"],
      ["2026-03-28T23:00:00Z", "00:00 CET, the day's first minute", "oncall-email"],
      // 2026-10-25: at 01:00Z the clock falls back from 03:00 CEST to 02:00 CET.
      ["2026-10-25T00:15:00Z", "02:15 CEST, the first time round", "oncall-email"],
      ["2026-10-25T00:45:00Z", "02:45 CEST", "support-slack"],
      ["2026-10-25T01:15:00Z", "02:15 CET, the same wall-clock time again", "oncall-email"],
      ["2026-10-25T01:30:00Z", "02:30 CET", "support-slack"],
      ["2026-10-24T22:00:00Z", "00:00 CEST", "oncall-email"],
    ])("routes %s (%s) to %s", (at, _local, target) => {
      expect(targetsAt(night, at)).toEqual([target]);
    });

    it("keeps business hours at 08:00 local time on both sides of each switch", () => {
      // Monday 2026-03-30 (CEST, UTC+2) and Monday 2026-10-26 (CET, UTC+1).
      expect(targetsAt(shifts, "2026-03-30T06:00:00Z")).toEqual(["support-slack"]);
      expect(targetsAt(shifts, "2026-03-30T05:59:00Z")).toEqual(["oncall-email"]);
      expect(targetsAt(shifts, "2026-10-26T07:00:00Z")).toEqual(["support-slack"]);
      expect(targetsAt(shifts, "2026-10-26T06:59:00Z")).toEqual(["oncall-email"]);
    });
  });

  it("reads days of the month from the end, months and date ranges", () => {
    const calendar = `${header}timeIntervals:
  month-end: { timeZone: Europe/Copenhagen, daysOfMonth: ["-3:-1"], months: [jan, "november:december"] }
  christmas: { timeZone: Europe/Copenhagen, dates: ["2026-12-24:2026-12-26"] }
routes:
  - { name: close, activeDuring: [month-end], mutedDuring: [christmas], to: [oncall-email] }
  - { name: rest, to: [support-slack] }
`;
    expect(targetsAt(calendar, "2026-11-28T12:00:00+01:00")).toEqual(["oncall-email"]);
    expect(targetsAt(calendar, "2026-11-27T12:00:00+01:00")).toEqual(["support-slack"]);
    expect(targetsAt(calendar, "2026-10-31T12:00:00+01:00")).toEqual(["support-slack"]);
    expect(targetsAt(calendar, "2027-01-31T12:00:00+01:00")).toEqual(["oncall-email"]);
    expect(targetsAt(calendar, "2026-12-29T12:00:00+01:00")).toEqual(["oncall-email"]);
    // 23:30Z on the 28th is already the 29th in Copenhagen.
    expect(targetsAt(calendar, "2026-12-28T23:30:00Z")).toEqual(["oncall-email"]);
    expect(targetsAt(calendar, "2026-12-25T12:00:00+01:00")).toEqual(["support-slack"]);
  });

  it("reports unknown interval names, time zones and bad ranges with their lines, all at once", () => {
    const problems = problemsOf(`${header}timeIntervals:
  business-hours:
    timeZone: Europe/Copenhagn
    weekdays: [monday:fridy, "sunday:monday"]
    times: [{ start: "17:00", end: "08:00" }, { start: "08:00", end: "25:00" }]
  holidays:
    dates: ["2026-02-30", "2026-12-26:2026-12-24"]
    months: [13]
    daysOfMonth: ["1:-1"]
  always: { timeZone: UTC }
routes:
  - name: office
    activeDuring: [busines-hours]
    mutedDuring: [holidays, nope]
    to: [support-slack]
`);
    expect(problems).toEqual([
      'relay.yaml:9:15 timeIntervals.business-hours.timeZone: unknown time zone "Europe/Copenhagn" — did you mean "Europe/Copenhagen"?',
      'relay.yaml:10:16 timeIntervals.business-hours.weekdays[0]: not a weekday or range of them: "monday:fridy" — did you mean "friday"?',
      'relay.yaml:10:30 timeIntervals.business-hours.weekdays[1]: "sunday:monday" ends before it starts; a range does not wrap around, so list it as two (e.g. "saturday:sunday" or [friday, monday])',
      'relay.yaml:11:13 timeIntervals.business-hours.times[0]: start must be before end; for a range past midnight list two, e.g. { start: "17:00", end: "24:00" } and { start: "00:00", end: "08:00" }',
      'relay.yaml:11:70 timeIntervals.business-hours.times[1].end: not a time of day: "25:00" (use "HH:MM", 00:00 to 24:00)',
      'relay.yaml:15:19 timeIntervals.holidays.daysOfMonth[0]: "1:-1" mixes days counted from the start and from the end of the month; list them apart',
      'relay.yaml:14:14 timeIntervals.holidays.months[0]: not a month or range of them: "13" (use e.g. "november:december", "january:february")',
      'relay.yaml:13:13 timeIntervals.holidays.dates[0]: not a date: "2026-02-30" (use "YYYY-MM-DD", or "YYYY-MM-DD:YYYY-MM-DD" for several days)',
      'relay.yaml:13:27 timeIntervals.holidays.dates[1]: "2026-12-26:2026-12-24" ends before it starts',
      "relay.yaml:16:11 timeIntervals.always: give at least one of weekdays, times, daysOfMonth, months or dates",
      'relay.yaml:19:20 routes[0].activeDuring[0]: unknown time interval "busines-hours" — did you mean "business-hours"?',
      'relay.yaml:20:29 routes[0].mutedDuring[1]: unknown time interval "nope" (defined: business-hours, holidays, always)',
    ]);
  });

  it("warns at check of a time interval that no route names, and of no route after a timed one as shadowed", () => {
    const yaml = shifts.replace("    mutedDuring: [holidays]\n", "");
    const warnings = lintConfig(parseConfig(yaml, "relay.yaml", {}), yaml, "relay.yaml", {}).map((w) => w.message);
    expect(warnings).toContain('no route names time interval "holidays" in activeDuring or mutedDuring');
    // The office route is passed over at night, so the on-call route after it can match.
    const all = lintConfig(parseConfig(shifts, "relay.yaml", {}), shifts, "relay.yaml", {}).map((w) => w.message);
    expect(all.filter((message) => !message.startsWith("urlToken is none"))).toEqual([]);
  });
});
