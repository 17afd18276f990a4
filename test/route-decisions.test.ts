import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import { describeDecision } from "../src/routing/explain.js";
import { compileRoutes, type RouteDecision } from "../src/routing/router.js";
import { statusChangeAt } from "./support/time-intervals.js";

/**
 * `Router.decide`: what each route made of an event, as values, the why behind `match`. The
 * route command prints it (route-command.test.ts holds its words); here its values.
 */
const config = parseConfig(
  `allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: x, urlToken: none } }
targets:
  slack: { type: http, url: "http://127.0.0.1/slack" }
  email: { type: http, url: "http://127.0.0.1/email" }
  crm: { type: http, url: "http://127.0.0.1/crm" }
timeIntervals:
  office: { timeZone: Europe/Copenhagen, weekdays: [monday:friday], times: [{ start: "08:00", end: "17:00" }] }
  nights: { timeZone: Europe/Copenhagen, times: [{ start: "00:00", end: "06:00" }] }
routes:
  - name: reopened
    match: { event: ticket_status_change, previousStatus: pending, status: open }
    to: [slack]
  - name: office-hours
    match: { event: ticket_status_change }
    activeDuring: [office]
    to: [slack]
  - name: quiet-nights
    match: { event: ticket_status_change }
    mutedDuring: [nights]
    to: [email]
  - name: everything
    match: { source: socialboards }
    to: [email, crm]
  - name: never-reached
    to: [crm]
`,
  "relay.yaml",
  {},
);
const router = compileRoutes(config.routes, config.timeIntervals);

/** A status change received at `receivedAt` (03:00 in Copenhagen by default: night, not office). */
const statusChange = (receivedAt = "2026-11-25T03:00:00+01:00") => statusChangeAt(receivedAt);

describe("route decisions", () => {
  it("say per route: the first unmet condition, outside its active time, muted, matched, not tried", () => {
    expect(router.decide(statusChange())).toEqual<RouteDecision[]>([
      {
        kind: "unmet",
        route: "reopened",
        unmet: { key: "previousStatus", condition: "pending", value: "open" },
      },
      { kind: "inactive", route: "office-hours", activeDuring: ["office"] },
      { kind: "muted", route: "quiet-nights", mutedDuring: "nights" },
      { kind: "matched", route: "everything", targets: ["email", "crm"], continue: false },
      { kind: "notTried", route: "never-reached", takenBy: "everything" },
    ]);
  });

  it("judge a route's time at the event's receipt, as match does", () => {
    const atTen = router.decide(statusChange("2026-11-25T10:00:00+01:00"));
    expect(atTen.map(({ kind }) => kind)).toEqual(["unmet", "matched", "notTried", "notTried", "notTried"]);
  });

  it("send an event to the targets match sends it to, in the same order, each once", () => {
    for (const at of ["2026-11-25T03:00:00+01:00", "2026-11-25T10:00:00+01:00", "2026-11-25T20:00:00+01:00"]) {
      const event = statusChange(at);
      const targets = router
        .decide(event)
        .flatMap((decision) => (decision.kind === "matched" ? decision.targets : []))
        .filter((target, index, all) => all.indexOf(target) === index);
      expect(targets).toEqual(router.match(event).map(({ targetId }) => targetId));
    }
  });

  it("are said in the words route --event prints", () => {
    const [unmet, inactive, muted, , notTried] = router.decide(statusChange()) as Exclude<
      RouteDecision,
      { kind: "matched" }
    >[];
    expect([unmet, inactive, muted, notTried].map((decision) => decision && describeDecision(decision))).toEqual([
      'previousStatus is "open", wanted "pending"',
      "active only during office, which does not hold at the event's receipt",
      "muted during nights, which holds at the event's receipt",
      "everything took the event and has no continue",
    ]);
  });
});
