import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createSocialboardsSource } from "../src/sources/socialboards/source.js";
import { InvalidPayload } from "../src/sources/source.js";

const fixture = (name: string): unknown =>
  JSON.parse(readFileSync(new URL(`fixtures/socialboards/${name}.json`, import.meta.url), "utf8"));
const receipt = { id: "receipt-1", source: "sb", receivedAt: "2026-11-24T10:00:00.000Z" };
const source = createSocialboardsSource("sb", {
  type: "socialboards",
  verifyToken: "verify-me",
  urlToken: "url-secret",
});

describe("Socialboards source", () => {
  it("answers the verification handshake with the challenge when the token matches", () => {
    expect(source.answerChallenge?.({ challenge: "2135675231", verifyToken: "verify-me" })).toEqual({
      ok: true,
      body: "2135675231",
    });
  });

  it.each([
    ["a wrong token", { challenge: "1", verifyToken: "verify-mf" }, 403],
    ["no token", { challenge: "1" }, 403],
    ["no challenge", { verifyToken: "verify-me" }, 400],
  ])("refuses the handshake with %s", (_, query, status) => {
    expect(source.answerChallenge?.(query)).toMatchObject({ ok: false, status });
  });

  it("authenticates a POST by the token in its URL", () => {
    const request = (query: Record<string, string>) => ({ query, headers: {}, rawBody: Buffer.from("{}") });
    expect(source.authenticate(request({ token: "url-secret" }))).toEqual({ ok: true });
    expect(source.authenticate(request({ token: "url-secreT" })).ok).toBe(false);
    expect(source.authenticate(request({})).ok).toBe(false);
  });

  it("normalizes the documented status change", () => {
    const payload = fixture("ticket_status_change");
    expect(source.validate(payload)).toEqual({ events: 1 });
    const [event] = source.normalize(payload, receipt);
    expect(event).toMatchObject({
      id: "receipt-1.0",
      source: "sb",
      sourceType: "socialboards",
      type: "ticket_status_change",
      community: "yourCompany",
      ticketId: "4478963",
      previousStatus: "open",
      status: "pending",
      link: "https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963",
      ticket: {
        id: "4478963",
        title: "Cat is ill",
        category: "Other cases",
        author: { name: "Robert Baker", email: "robert78baker@gmail.com" },
        message: "I want to take my cat to a vet",
        sentiment: "question",
        channel: "web",
      },
    });
  });

  it("makes one event per item of Events, each with its own id", () => {
    const payload = fixture("ticket_status_change") as { Events: unknown[] };
    payload.Events.push({ ...(payload.Events[0] as object), TicketId: 42, PreviousTicketStatus: "pending" });
    const events = source.normalize(payload, receipt);
    expect(events.map((e) => [e.id, e.ticketId, e.previousStatus])).toEqual([
      ["receipt-1.0", "4478963", "open"],
      ["receipt-1.1", "42", "pending"],
    ]);
  });

  it("keeps an event whose fields are null or of an unexpected shape", () => {
    const payload = {
      CommunityName: "c",
      EventType: "ticket_status_change",
      Events: [{ TicketId: 7, Ticket: null }, { Ticket: "odd" }],
    };
    const events = source.normalize(payload, receipt);
    expect(events).toHaveLength(2);
    expect(events[0]).toMatchObject({ ticketId: "7", type: "ticket_status_change" });
    expect(events[1]).toMatchObject({ type: "ticket_status_change", raw: { Ticket: "odd" } });
  });

  it.each([
    ["an array", []],
    ["no EventType", { CommunityName: "c", Events: [] }],
    ["Events that is not a list", { CommunityName: "c", EventType: "x", Events: {} }],
    ["an item that is not an object", { CommunityName: "c", EventType: "x", Events: [1] }],
  ])("rejects a body with %s", (_, body) => {
    expect(() => source.validate(body)).toThrow(InvalidPayload);
  });
});
