import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import type { RelayEvent } from "../src/events.js";
import { compileRoutes } from "../src/routing/router.js";

const statusChange: RelayEvent = {
  id: "r1.0",
  source: "socialboards",
  sourceType: "socialboards",
  type: "ticket_status_change",
  known: true,
  receivedAt: "2026-11-24T10:00:00.000Z",
  community: "yourCompany",
  ticketId: "4478963",
  previousStatus: "open",
  status: "pending",
  ticket: { id: "4478963", title: "Cat is ill", status: "pending", category: "Other cases" },
  raw: {},
};

/** Routes as a user writes them, so the test covers the schema's value forms too. */
function routerFor(routesYaml: string) {
  const config = parseConfig(
    `allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: x, urlToken: none } }
targets:
  slack: { type: http, url: "http://127.0.0.1/slack" }
  email: { type: http, url: "http://127.0.0.1/email" }
  crm: { type: http, url: "http://127.0.0.1/crm" }
routes:
${routesYaml}`,
    "routes.yaml",
    {},
  );
  return compileRoutes(config.routes);
}

const targetsOf = (routesYaml: string, event: RelayEvent) =>
  routerFor(routesYaml)
    .match(event)
    .map((d) => d.targetId);

describe("route matching", () => {
  it.each([
    [
      "an exact status change",
      "- match: { event: ticket_status_change, previousStatus: open, status: pending }\n  to: [slack]",
      ["slack"],
    ],
    ["any of a list", "- match: { status: [closed, pending] }\n  to: [slack]", ["slack"]],
    ["a route without match (everything)", "- to: [crm]", ["crm"]],
    ["a category", '- match: { category: "Other cases" }\n  to: [email]', ["email"]],
    ["the source id", "- match: { source: socialboards }\n  to: [crm]", ["crm"]],
    [
      "no route when one field differs",
      "- match: { event: ticket_status_change, previousStatus: pending }\n  to: [slack]",
      [],
    ],
    ["no route when a field is absent from the event", "- match: { sentiment: question }\n  to: [slack]", []],
  ])("matches %s", (_, routes, expected) => {
    expect(targetsOf(routes, statusChange)).toEqual(expected);
  });

  it("stops at the first matching route unless it says continue", () => {
    const routes = "- match: { status: pending }\n  to: [slack]\n- to: [crm]";
    expect(targetsOf(routes, statusChange)).toEqual(["slack"]);
    expect(targetsOf(routes.replace("to: [slack]", "to: [slack]\n  continue: true"), statusChange)).toEqual([
      "slack",
      "crm",
    ]);
  });

  it("skips routes that do not match and takes the next", () => {
    const routes = "- match: { status: closed }\n  to: [slack]\n- match: { status: pending }\n  to: [email]";
    expect(targetsOf(routes, statusChange)).toEqual(["email"]);
  });

  it("sends an event to a target once even when two routes name it", () => {
    const routes = "- name: first\n  to: [slack, email]\n  continue: true\n- name: second\n  to: [email, crm]";
    expect(routerFor(routes).match(statusChange)).toEqual([
      { targetId: "slack", route: "first" },
      { targetId: "email", route: "first" },
      { targetId: "crm", route: "second" },
    ]);
  });

  it("names unnamed routes by position", () => {
    expect(routerFor("- to: [crm]").match(statusChange)).toEqual([{ targetId: "crm", route: "routes[0]" }]);
  });
});

/** A reply on a tagged ticket, with a raw payload to reach into. */
const reply: RelayEvent = {
  ...statusChange,
  id: "r2.0",
  type: "reply_creation",
  previousStatus: undefined,
  tags: ["vip", "billing"],
  tagsAdded: ["vip"],
  author: { role: "agent", name: "Anna Larsen", email: "anna.larsen@yourcompany.com" },
  message: { kind: "reply", id: "1", text: "We refunded your order" },
  raw: { ReplyCount: 3, Ticket: { Properties: { IsSpam: false }, Tags: [{ Name: "vip" }, { Name: "billing" }] } },
};

describe("route matching on any field", () => {
  const matches = (match: string, event: RelayEvent = reply) =>
    targetsOf(`- match: ${match}\n  to: [slack]`, event).length === 1;

  it.each([
    ["a glob on the event name", '{ event: "reply_*" }', true],
    ["a glob that does not fit", '{ event: "note_*" }', false],
    ["a tag in the list", "{ tags: vip }", true],
    ["contains on a list", "{ tags: { contains: [urgent, billing] } }", true],
    ["contains on a list that lacks it", "{ tags: { contains: urgent } }", false],
    ["contains as a substring of text", '{ message.text: { contains: "refund" } }', true],
    ["a regex", "{ author.email: { regex: '@yourcompany\\.com$' } }", true],
    ["not", "{ status: { not: [closed, open] } }", true],
    ["not, when the value is excluded", "{ status: { not: pending } }", false],
    ["exists on a present field", "{ tagsAdded: { exists: true } }", true],
    ["exists: false on a missing field", "{ previousStatus: { exists: false } }", true],
    ["exists on a missing field", "{ tagsRemoved: { exists: true } }", false],
    ["a number range on a payload path", "{ payload.ReplyCount: { gt: 2, lte: 3 } }", true],
    ["a number range it is outside", "{ payload.ReplyCount: { gt: 3 } }", false],
    ["a boolean deep in the payload", "{ payload.Ticket.Properties.IsSpam: false }", true],
    ["a value from every item of a payload list", "{ payload.Ticket.Tags.Name: billing }", true],
    ["an indexed payload list item", "{ payload.Ticket.Tags.0.Name: billing }", false],
    ["a payload path that is not there", "{ payload.Ticket.Nope: { exists: true } }", false],
    ["no inherited property of the payload", "{ payload.constructor: { exists: true } }", false],
    ["several operators that must all hold", '{ author.name: { glob: "Anna *", not: "Anna Smith" } }', true],
    ["the author's role: a team member's reply", "{ author.role: agent }", true],
    ["the author's role: not a customer's", "{ author.role: customer }", false],
  ])("matches %s: %s", (_, match, expected) => {
    expect(matches(match)).toBe(expected);
  });

  it("does not treat * as a glob outside event, source and sourceType", () => {
    expect(matches('{ author.name: "Anna*" }')).toBe(false);
    expect(matches('{ author.name: { glob: "Anna*" } }')).toBe(true);
  });
});
