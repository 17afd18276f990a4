import { readdirSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { sonarEventTypes } from "../src/sources/sonar/register.js";
import { createSonarSource } from "../src/sources/sonar/source.js";

const fixtureDir = new URL("fixtures/sonar/", import.meta.url);
const fixture = (name: string) => JSON.parse(readFileSync(new URL(`${name}.json`, fixtureDir), "utf8"));
const source = createSonarSource("sms", { type: "sonar", urlToken: "t0ken" });
const receipt = { id: "r1", source: "sms", receivedAt: "2026-11-24T10:00:00.000Z" };
const normalizeOne = (payload: unknown) => {
  expect(source.validate(payload)).toEqual({ events: 1 });
  return source.normalize(payload, receipt)[0];
};

const customer = { name: "Robert Baker", phone: "+15555550123", email: "robert78baker@example.com" };
const anna = { name: "Anna Larsen", email: "anna@example.com" };
const link = "https://sendsonar.com/threads/robert_bakers_thread";
const sms = (direction: string) => ({ kind: "sms", id: "d22eaa3b-0daa-4619-943e-16f49388d73a", direction });

const expected: Record<string, object> = {
  new_assigned_message: { customer, author: customer, assignee: anna, message: sms("inbound"), link },
  new_unassigned_message: {
    customer,
    author: customer,
    message: { ...sms("inbound"), text: "Hello? Is anyone there?" },
  },
  outbound_message: { customer, author: anna, message: { ...sms("outbound"), text: expect.stringContaining("10:00") } },
  customer_subscribed: { customer },
  customer_unsubscribed: { customer },
  user_assignment: { customer, assignee: anna, link },
  customer_created: { customer },
  tag_added_to_message: { customer, tagsAdded: ["vet-appointment"], message: { kind: "sms" } },
  tag_removed_from_message: { customer, tagsRemoved: ["urgent"] },
  customer_double_opted_in: { customer, message: { kind: "sms", text: "YES" } },
  customer_state_changed: { customer, state: "closed", assignee: anna },
};

describe("Sonar events, normalized", () => {
  const fixtures = readdirSync(fixtureDir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => file.replace(/\.json$/, ""));

  it("has a fixture and an expectation for each of Sonar's eleven webhook events", () => {
    expect(fixtures.sort()).toEqual([...sonarEventTypes].sort());
    expect(Object.keys(expected).sort()).toEqual([...sonarEventTypes].sort());
  });

  it.each(fixtures)("%s parses into a known event with its fields", (name) => {
    const payload = fixture(name);
    expect(normalizeOne(payload)).toMatchObject({
      id: "r1.0",
      source: "sms",
      sourceType: "sonar",
      type: name,
      known: true,
      raw: payload,
      ...expected[name],
    });
  });

  it("leaves out who is not there: an unassigned message has no assignee", () => {
    expect(normalizeOne(fixture("new_unassigned_message"))?.assignee).toBeUndefined();
  });

  it("routes an action it does not know by its name, and one without an action as unknown", () => {
    expect(normalizeOne({ action: "campaign_sent", customer: { phone_number: "+1" } })).toMatchObject({
      type: "campaign_sent",
      known: false,
      customer: { phone: "+1" },
    });
    expect(normalizeOne({ hello: "world" })).toMatchObject({ type: "unknown", known: false });
  });

  it("refuses a body that is not a JSON object", () => {
    expect(() => source.validate([1, 2])).toThrow(/not a Sonar webhook/);
  });

  it("authenticates a POST by the token in its URL", () => {
    const request = (query: Record<string, string>) => ({ query, headers: {}, rawBody: Buffer.from("{}") });
    expect(source.authenticate(request({ token: "t0ken" }))).toEqual({ ok: true });
    expect(source.authenticate(request({ token: "t0keN" })).ok).toBe(false);
    expect(source.authenticate(request({})).ok).toBe(false);
  });
});
