import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../support/cli-run.js";
import { shifts } from "../support/time-intervals.js";

/** `check` and `route --at` on a config with time intervals, run as a user runs them. */
describe("ticket-relay check with time intervals", () => {
  it("has check exit 1 with the line of an interval a route names but nobody defined", async () => {
    const file = writeConfig(shifts.replace("mutedDuring: [holidays]", "mutedDuring: [holiday]"));
    const { code, stdout, stderr } = await runCli(["check", "--config", file]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(
      `${file}:19:19 routes[0].mutedDuring[0]: unknown time interval "holiday" — did you mean "holidays"?`,
    );
  }, 60_000);
});

describe("ticket-relay route --at", () => {
  const config = writeConfig(shifts);
  const route = (...args: string[]) =>
    runCli(["route", "--event", "test/fixtures/socialboards/ticket_status_change.json", "--config", config, ...args]);

  it("shows which intervals hold at that time and sends to the on-call email on Christmas Eve at 03:00", async () => {
    const { code, stdout, stderr } = await route("--at", "2026-12-24T03:00:00+01:00");
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const lines = stdout.split("\n");
    expect(lines.slice(2, 4)).toEqual([
      "received  2026-12-24T03:00:00+01:00",
      "intervals ✗ business-hours does not hold (Thu 2026-12-24 03:00 Europe/Copenhagen)",
    ]);
    expect(lines[4]).toBe("          ✓ holidays holds (Thu 2026-12-24 03:00 Europe/Copenhagen)");
    expect(stdout).toContain(
      "routes    ✗ office: active only during business-hours, which does not hold at the event's receipt\n          ✓ on-call → oncall-email\ntargets   oncall-email\n",
    );
    expect(stdout).toContain("── oncall-email (email, to oncall@example.com), by route on-call");
  }, 60_000);

  it("says a holiday mutes the office route, and sends to Slack on a working morning, in JSON too", async () => {
    const holiday = await route("--at", "2026-12-24T10:00:00+01:00");
    expect(holiday.stdout).toContain("✗ office: muted during holidays, which holds at the event's receipt");
    const json = await route("--at", "2026-12-23T10:00:00+01:00", "--json");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.at).toBe("2026-12-23T09:00:00.000Z");
    expect(report.intervals).toEqual([
      { name: "business-hours", holds: true, localTime: "Wed 2026-12-23 10:00 Europe/Copenhagen" },
      { name: "holidays", holds: false, localTime: "Wed 2026-12-23 10:00 Europe/Copenhagen" },
    ]);
    expect(report.events[0].targets).toEqual(["support-slack"]);
    expect(report.events[0].routes[1]).toEqual({
      route: "on-call",
      matched: false,
      notTried: "office took the event and has no continue",
    });
  }, 60_000);

  it("refuses a time without its offset with exit 2", async () => {
    const { code, stderr } = await route("--at", "2026-12-24T03:00:00");
    expect(code).toBe(2);
    expect(stderr).toMatch(/^--at takes an ISO 8601 time with its offset/);
  }, 60_000);
});

describe("ticket-relay test with receivedAt", () => {
  it("routes each case as if received at its receivedAt, and says why a route was passed over", async () => {
    const config = writeConfig(shifts);
    mkdirSync(join(dirname(config), "tests"));
    writeFileSync(
      join(dirname(config), "tests", "shifts.yaml"),
      `- name: at night the on-call email gets it
  payload: test/fixtures/socialboards/ticket_status_change.json
  receivedAt: "2026-11-25T03:00:00+01:00"
  expect: { targets: [oncall-email] }
- name: on a working morning Slack gets it
  payload: test/fixtures/socialboards/ticket_status_change.json
  receivedAt: "2026-11-25T10:00:00+01:00"
  expect: { targets: [support-slack] }
- name: on Christmas Eve morning Slack gets it (it does not)
  payload: test/fixtures/socialboards/ticket_status_change.json
  receivedAt: "2026-12-24T10:00:00+01:00"
  expect: { targets: [support-slack] }
`,
    );
    const { code, stdout } = await runCli(["test", "--config", config], { timeoutMs: 60_000 });
    expect(code).toBe(1);
    expect(stdout).toMatch(/^pass {2}at night the on-call email gets it$/m);
    expect(stdout).toMatch(/^pass {2}on a working morning Slack gets it$/m);
    expect(stdout).toContain("office: muted during holidays, which holds at the event's receipt");
    expect(stdout).toMatch(/^3 cases: 2 passed, 1 failed$/m);
  }, 60_000);
});
