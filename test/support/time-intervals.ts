import type { RelayEvent } from "../../src/events.js";

/**
 * Configs with time intervals as a support team writes them: business hours and holidays in
 * Copenhagen, Slack in office hours, the on-call email otherwise.
 */
export const header = `redis: { url: "redis://127.0.0.1:1" }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support-slack: { type: slack, token: xoxb-test, channel: "#support" }
  oncall-email: { type: email, smtp: "smtp://127.0.0.1:2525", from: "Relay <relay@example.com>", to: oncall@example.com }
`;

export const shifts = `${header}timeIntervals:
  business-hours:
    timeZone: Europe/Copenhagen
    weekdays: [monday:friday]
    times: [{ start: "08:00", end: "17:00" }]
  holidays:
    timeZone: Europe/Copenhagen
    dates: ["2026-12-24", "2026-12-25", "2026-12-31"]
routes:
  - name: office
    match: { event: ticket_status_change }
    activeDuring: [business-hours]
    mutedDuring: [holidays]
    to: [support-slack]
  - name: on-call
    match: { event: ticket_status_change }
    to: [oncall-email]
`;

/** A status change of ticket 4478963 from open to pending, received at `receivedAt`: time intervals judge it by that. */
export function statusChangeAt(receivedAt: string): RelayEvent {
  return {
    id: "r1.0",
    source: "socialboards",
    sourceType: "socialboards",
    type: "ticket_status_change",
    known: true,
    receivedAt: new Date(receivedAt).toISOString(),
    ticketId: "4478963",
    previousStatus: "open",
    status: "pending",
    raw: {},
  };
}
