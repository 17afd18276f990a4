import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { knownEventTypes } from "../src/sources/socialboards/normalize.js";
import { createSocialboardsSource } from "../src/sources/socialboards/source.js";

const fixtureDir = new URL("fixtures/socialboards/", import.meta.url);
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, fixtureDir), "utf8"));
const source = createSocialboardsSource("sb", { type: "socialboards", verifyToken: "v", urlToken: undefined });
const receipt = { id: "r1", source: "sb", receivedAt: "2026-11-24T10:00:00.000Z" };
const normalizeOne = (payload: unknown) => {
  expect(source.validate(payload)).toEqual({ events: 1 });
  const [event] = source.normalize(payload, receipt);
  return event;
};

const customer = { name: "Robert Baker", email: "robert78baker@gmail.com" };
const agent = { name: "Anna Larsen", email: "anna.larsen@yourcompany.com" };
const ticket = { id: "4478963", title: "Cat is ill" };
const chat = { conversationId: "2555100", ticketId: "2555100", customer };

/** What each documented (or inferred) payload must become; see docs/events.md. */
const expected: Record<string, object> = {
  ticket_creation: { ticketId: "4478963", status: "open", category: "Other cases", tags: [], customer, ticket },
  ticket_status_change: { ticketId: "4478963", previousStatus: "open", status: "pending", customer, ticket },
  ticket_tags_change: { tags: ["Pets", "Vet appointment"], tagsAdded: ["Vet appointment"], tagsRemoved: [], ticket },
  ticket_category_change: { category: "Pet health", previousCategory: "15721", status: "pending", ticket },
  reply_creation: {
    ticketId: "4478963",
    author: agent,
    message: { kind: "reply", id: "156372820", text: expect.stringContaining("tomorrow at 10:00") },
    occurredAt: "2019-12-17T08:10:03.8181291+01:00",
  },
  reply_update: { author: agent, message: { kind: "reply", id: "156372820", text: expect.stringContaining("11:00") } },
  reply_deletion: { ticketId: "4478963", message: { kind: "reply", id: "156372820" } },
  note_creation: {
    ticketId: "4478963",
    author: agent,
    message: { kind: "note", id: "182605", text: expect.any(String) },
  },
  note_update: { author: agent, message: { kind: "note", id: "182605", text: expect.stringContaining("11:00") } },
  note_deletion: { message: { kind: "note", id: "182605" } },
  conversation_created: { ...chat, occurredAt: "2023-10-25T13:39:57.2844587+03:00" },
  conversation_message_added: {
    ...chat,
    author: customer,
    message: { kind: "chat", id: "61877301", text: expect.any(String) },
  },
  conversation_takeover_state_changed: { conversationId: "2555100", state: "agent" },
  conversation_status_changed: { ...chat, status: "closed" },
  conversation_closed: { ...chat, status: "closed" },
};

describe("Socialboards events, normalized", () => {
  const fixtures = readdirSync(fixtureDir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.replace(/\.json$/, ""));

  it("has a fixture and an expectation for every event type the relay knows", () => {
    expect(fixtures.sort()).toEqual([...knownEventTypes].sort());
    expect(Object.keys(expected).sort()).toEqual([...knownEventTypes].sort());
  });

  it.each(fixtures)("%s parses into a known event with its fields", (name) => {
    const payload = fixture(name);
    const event = normalizeOne(payload);
    expect(event).toMatchObject({
      id: "r1.0",
      source: "sb",
      sourceType: "socialboards",
      type: payload.EventType,
      known: true,
      community: "yourCompany",
      raw: payload.Events[0],
      ...expected[name],
    });
  });

  it("keeps an event whose documented fields are null, missing or of another type", () => {
    const { Events, ...envelope } = fixture("reply_creation");
    const item = {
      ...Events[0],
      ReplyId: null,
      InboxLink: 42,
      Reply: { ...Events[0].Reply, Author: "Anna", Message: null },
    };
    const event = normalizeOne({ ...envelope, Events: [item] });
    expect(event).toMatchObject({
      type: "reply_creation",
      known: true,
      ticketId: "4478963",
      message: { kind: "reply" },
    });
    expect(event?.author).toBeUndefined();
    expect(event?.link).toBe("42");
  });

  it("routes an EventType it does not know by its raw name, marked unknown", () => {
    const payload = {
      CommunityName: "yourCompany",
      EventType: "ticket_merged",
      TicketId: 7,
      Events: [{ Extra: true }],
    };
    expect(normalizeOne(payload)).toMatchObject({
      type: "ticket_merged",
      known: false,
      ticketId: "7",
      raw: { Extra: true },
    });
  });

  it("takes the envelope's TicketId only when the payload holds a single event", () => {
    const payload = {
      CommunityName: "c",
      EventType: "note_deletion",
      TicketId: 7,
      Events: [{ NoteId: 1 }, { NoteId: 2 }],
    };
    expect(source.normalize(payload, receipt).map((event) => event.ticketId)).toEqual([undefined, undefined]);
  });
});
