import { readdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import type { RelayEvent } from "../src/events.js";
import { compileRoutes } from "../src/routing/router.js";
import { createSources } from "../src/sources/registry.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";

const sourcesYaml = `sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
  sonar: { type: sonar, urlToken: sonar-url-token }
`;
const sources = createSources(parseConfig(sourcesYaml, "sources.yaml", {}));

/** Every fixture of every source, normalized as a worker would. */
const fixtures = ["socialboards", "sonar"].flatMap((sourceType) => {
  const dir = new URL(`fixtures/${sourceType}/`, import.meta.url);
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .map((file) => {
      const payload = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
      const [event] =
        sources.get(sourceType)?.normalize(payload, { id: "r", source: sourceType, receivedAt: "t" }) ?? [];
      return { sourceType, name: file.replace(/\.json$/, ""), event: event as RelayEvent };
    });
});

/** A route on a field other than the type, which each fixture's event must match. */
const byField: Record<string, string> = {
  ticket_creation: '{ status: open, customer.email: { regex: "@gmail\\\\.com$" } }',
  ticket_status_change: "{ previousStatus: open, status: pending }",
  ticket_tags_change: '{ tagsAdded: { contains: "Vet appointment" } }',
  ticket_category_change: '{ category: "Pet health", previousCategory: "15721" }',
  reply_creation: '{ author.name: "Anna Larsen", message.kind: reply }',
  reply_update: '{ message.text: { contains: "11:00" } }',
  reply_deletion: "{ message.kind: reply, message.text: { exists: false } }",
  note_creation: "{ message.kind: note, payload.Note.Author.Status: team }",
  note_update: '{ message.text: { contains: "Moved" } }',
  note_deletion: "{ payload.NoteId: { gt: 0 } }",
  conversation_created: '{ conversationId: "2555100", payload.Conversation.QueuePositionInfo.Position: { gte: 1 } }',
  conversation_message_added: "{ message.kind: chat, customer.name: Robert Baker }",
  conversation_takeover_state_changed: "{ state: agent }",
  conversation_status_changed: "{ status: closed, sourceType: socialboards }",
  conversation_closed: "{ status: closed, conversationId: { exists: true } }",
  new_assigned_message: "{ message.direction: inbound, assignee.name: Anna Larsen }",
  new_unassigned_message: "{ message.direction: inbound, assignee.name: { exists: false } }",
  outbound_message: "{ message.direction: outbound, author.email: anna@example.com }",
  customer_subscribed: '{ customer.phone: { glob: "+1555*" } }',
  customer_unsubscribed: '{ customer.phone: "+15555550123", sourceType: sonar }',
  user_assignment: "{ assignee.email: anna@example.com }",
  customer_created: "{ customer.name: Robert Baker, customer.email: { exists: true } }",
  tag_added_to_message: "{ tagsAdded: vet-appointment }",
  tag_removed_from_message: "{ tagsRemoved: { contains: urgent } }",
  customer_double_opted_in: "{ message.text: YES }",
  customer_state_changed: "{ state: closed }",
};

function router(routes: string) {
  const config = parseConfig(
    `allowPrivateNetwork: true\n${sourcesYaml}targets:\n  t: { type: http, url: "http://127.0.0.1/t" }\nroutes:\n${routes}`,
    "r.yaml",
    {},
  );
  return compileRoutes(config.routes);
}

describe("every event type routes", () => {
  it.each(fixtures)("$sourceType $name by its type, and by a glob", ({ event, name }) => {
    expect(router(`  - match: { event: ${name} }\n    to: [t]`).match(event)).toHaveLength(1);
    expect(router(`  - match: { event: "${name.slice(0, 4)}*" }\n    to: [t]`).match(event)).toHaveLength(1);
    expect(router(`  - match: { event: { not: ${name} } }\n    to: [t]`).match(event)).toHaveLength(0);
  });

  it.each(fixtures)("$sourceType $name by a field of its own", ({ event, name }) => {
    const match = byField[name];
    expect(match, `no field route for ${name}`).toBeDefined();
    expect(router(`  - match: ${match}\n    to: [t]`).match(event)).toHaveLength(1);
  });
});

describe("an EventType the relay does not know", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;

  beforeEach(() => sink.reset());

  beforeAll(async () => {
    sink = await startHttpSink();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
${sourcesYaml}targets:
  catch-all: { type: http, url: "${sink.url}/all" }
routes:
  - match: { event: ticket_status_change }
    to: [catch-all]
  - name: everything-else
    to: [catch-all]
`);
  });

  afterAll(async () => {
    await relay?.close();
    await sink?.close();
  });

  it("is answered 200, reaches the catch-all route by its raw name, and is logged once as unknown", async () => {
    // Two different bodies: the same body twice would be taken for the sender's retry.
    for (let i = 0; i < 2; i++) {
      const payload = {
        CommunityName: "yourCompany",
        EventType: "ticket_merged",
        TicketId: 99,
        Events: [{ MergedInto: 100 + i }],
      };
      const response = await fetch(`${relay.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(payload),
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ accepted: 1, receipt: expect.any(String) });
    }
    const requests = await sink.waitForRequests(2);
    const request = requests.find((received) => JSON.stringify(received.json).includes('"MergedInto":100'));
    expect(request?.json).toMatchObject({
      route: "everything-else",
      title: "Ticket merged on #99",
      event: { type: "ticket_merged", known: false, ticketId: "99" },
      payload: { MergedInto: 100 },
    });
    const warnings = relay.logs.filter((line) => line.includes("unknown event type"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"type":"ticket_merged"');
  });

  it("takes a Sonar webhook over HTTP only with its URL token, and delivers its message", async () => {
    const body = readFileSync(new URL("fixtures/sonar/customer_unsubscribed.json", import.meta.url), "utf8");
    const post = (query: string) =>
      fetch(`${relay.url}/webhooks/sonar${query}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    expect((await post("")).status).toBe(401);
    expect((await post("?token=wrong")).status).toBe(401);
    expect(await (await post("?token=sonar-url-token")).json()).toEqual({ accepted: 1, receipt: expect.any(String) });

    const [request] = await sink.waitForRequests(1);
    expect(request?.json).toMatchObject({
      title: "Customer Robert Baker (+15555550123) unsubscribed",
      event: { sourceType: "sonar", type: "customer_unsubscribed", customer: { phone: "+15555550123" } },
    });
    // Customer details go to targets, never to logs.
    expect(relay.logs.join("")).not.toMatch(/15555550123|robert78baker/);
  });
});
