import { describe, expect, it } from "vitest";
import { safeEventType } from "../src/events.js";
import { createGenericSource } from "../src/sources/generic/source.js";
import { createSocialboardsSource } from "../src/sources/socialboards/source.js";
import { createSonarSource } from "../src/sources/sonar/source.js";

const receipt = { id: "r1", source: "src", receivedAt: "2024-01-01T00:00:00.000Z" };

describe("safeEventType", () => {
  it.each(["ticket_status_change", "invoice.paid", "urn:event:v1", "a-b", "x".repeat(100)])(
    "keeps %s as it is",
    (name) => {
      expect(safeEventType(name)).toBe(name);
    },
  );

  it.each([
    ["ticket status/change", "ticket_status_change"],
    ['<img src="x">', "_img_src__x__"],
    ["line\nbreak\u0000", "line_break_"],
    ["café 😀", "caf___"],
  ])("replaces each disallowed character of %j with _", (name, safe) => {
    expect(safeEventType(name)).toBe(safe);
  });

  it("cuts a long name to 100 characters", () => {
    expect(safeEventType("y".repeat(500_000))).toBe("y".repeat(100));
    expect(safeEventType("a b".repeat(100))).toBe("a_b".repeat(34).slice(0, 100));
  });

  it.each([[""], [undefined]])("names a missing or empty type %j unknown", (name) => {
    expect(safeEventType(name)).toBe("unknown");
  });

  it("gives names that match the documented pattern", () => {
    for (const name of ["", "é", "x".repeat(101), "\u{1F600}".repeat(80), "ok.name"]) {
      expect(safeEventType(name)).toMatch(/^[A-Za-z0-9_.:-]{1,100}$/);
    }
  });
});

describe("every source names its events safely and keeps the payload untouched", () => {
  const hostile = `new type <b>${"!".repeat(200)}`;
  const expected = `new_type__b_${"_".repeat(88)}`;

  it("Socialboards: the EventType", () => {
    const source = createSocialboardsSource("sb", { type: "socialboards", verifyToken: "v", urlToken: undefined });
    const item = { TicketId: 7, Note: "<b>kept</b>" };
    const [event] = source.normalize({ CommunityName: "c", EventType: hostile, Events: [item] }, receipt);
    expect(event).toMatchObject({ type: expected, known: false, ticketId: "7" });
    expect(event?.raw).toEqual(item);
  });

  it("Socialboards: a known EventType is still known", () => {
    const source = createSocialboardsSource("sb", { type: "socialboards", verifyToken: "v", urlToken: undefined });
    const [event] = source.normalize({ CommunityName: "c", EventType: "ticket_creation", Events: [{}] }, receipt);
    expect(event).toMatchObject({ type: "ticket_creation", known: true });
  });

  it("Sonar: the action", () => {
    const source = createSonarSource("sms", { type: "sonar", urlToken: undefined });
    const payload = { action: hostile, text: "hi" };
    const [event] = source.normalize(payload, receipt);
    expect(event).toMatchObject({ type: expected, known: false });
    expect(event?.raw).toEqual({ action: hostile, text: "hi" });
  });

  it("generic: the value at the eventType path", () => {
    const source = createGenericSource("g", {
      type: "generic",
      signature: "x-hub-signature-256",
      secret: "s",
      tolerance: 300_000,
      eventType: "data.kind",
      urlToken: undefined,
    });
    const payload = { data: { kind: hostile } };
    const [event] = source.normalize(payload, receipt);
    expect(event).toMatchObject({ type: expected });
    expect(event?.raw).toEqual({ data: { kind: hostile } });
  });
});
