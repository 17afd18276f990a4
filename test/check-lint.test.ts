import { describe, expect, it } from "vitest";
import { ConfigError, formatProblem } from "../src/config/errors.js";
import { lintConfig } from "../src/config/lint.js";
import { parseConfig } from "../src/config/load.js";
import { eventTypesBySourceType } from "../src/sources/registry.js";
import { runCli, writeConfig } from "./support/cli-run.js";

const socialboards = "  socialboards: { type: socialboards, verifyToken: v, urlToken: secret-token }";

function warningsOf(text: string): string[] {
  const config = parseConfig(text, "relay.yaml", {});
  return lintConfig(config, text, "relay.yaml", eventTypesBySourceType).map(formatProblem);
}

function problemsOf(text: string): string[] {
  try {
    parseConfig(text, "relay.yaml", {});
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("check's warnings", () => {
  it("has none for a config where every route can match and every target is used", () => {
    expect(
      warningsOf(`
sources:
${socialboards}
targets:
  support-slack: { type: slack, token: t, channel: "#support", fallback: backup }
  backup: { type: slack, token: t, channel: "#backup" }
routes:
  - name: pending
    match: { event: ticket_status_change, status: pending }
    to: [support-slack]
  - name: replies
    match: { event: "reply_*" }
    to: [support-slack]
  - name: the-rest
    to: [support-slack]
`),
    ).toEqual([]);
  });

  it.each([
    ["an empty match", "match: {}", "its empty match takes every event"],
    [
      "conditions that are a subset of the later route's",
      "match: { event: ticket_status_change }",
      'it takes every event this one would (event: "ticket_status_change")',
    ],
    [
      "a list of values that holds the later route's value",
      "match: { status: [pending, closed] }",
      'it takes every event this one would (status: one of "pending", "closed")',
    ],
    [
      "a glob that takes the later route's event",
      'match: { event: "ticket_*" }',
      'it takes every event this one would (event: "ticket_*")',
    ],
  ])("warns about a route that an earlier route without continue shadows with %s", (_, match, why) => {
    const text = `
sources:
${socialboards}
targets:
  support-slack: { type: slack, token: t, channel: "#support" }
routes:
  - name: catch-all
    ${match}
    to: [support-slack]
  - name: pending
    match: { event: ticket_status_change, status: pending }
    to: [support-slack]
`;
    expect(warningsOf(text)).toEqual([
      `relay.yaml:10:5 routes[1]: route "pending" can never match: route "catch-all" (routes[0]) comes before it without continue, and ${why}`,
    ]);
  });

  it.each([
    ["the earlier route says continue", "match: {}\n    continue: true"],
    [
      "the earlier route asks for something the later one does not",
      "match: { event: ticket_status_change, tags: vip }",
    ],
    ["the earlier route's value differs", "match: { status: closed }"],
    ["the earlier route has an operator", "match: { status: { not: closed } }"],
  ])("does not warn when %s", (_, match) => {
    const text = `
sources:
${socialboards}
targets:
  support-slack: { type: slack, token: t, channel: "#support" }
routes:
  - name: first
    ${match}
    to: [support-slack]
  - name: pending
    match: { event: ticket_status_change, status: pending }
    to: [support-slack]
`;
    expect(warningsOf(text)).toEqual([]);
  });

  it("warns about a target no route sends to, but not one used as a fallback", () => {
    expect(
      warningsOf(`
sources:
${socialboards}
targets:
  support-slack: { type: slack, token: t, channel: "#support", fallback: backup }
  backup: { type: slack, token: t, channel: "#backup" }
  forgotten: { type: slack, token: t, channel: "#forgotten" }
routes:
  - to: [support-slack]
`),
    ).toEqual([
      'relay.yaml:7:14 targets.forgotten: no route sends to target "forgotten" (and no target falls back to it)',
    ]);
  });

  it("warns about an event type no configured source emits, with the closest one, globs included", () => {
    expect(
      warningsOf(`
sources:
${socialboards}
targets:
  support-slack: { type: slack, token: t, channel: "#support" }
routes:
  - match: { event: ticket_stauts_change }
    to: [support-slack]
    continue: true
  - match: { event: [reply_creation, "customer_*"] }
    to: [support-slack]
    continue: true
  - match: { event: { in: [note_creation, new_assigned_message] } }
    to: [support-slack]
`),
    ).toEqual([
      'relay.yaml:7:21 routes[0].match.event: no configured source emits event "ticket_stauts_change" — did you mean "ticket_status_change"?',
      'relay.yaml:10:38 routes[1].match.event[1]: no event type that the configured sources (socialboards) emit matches "customer_*"',
      'relay.yaml:13:43 routes[2].match.event.in[1]: no configured source emits event "new_assigned_message" (it is a sonar event, and there is no sonar source)',
    ]);
  });

  it("does not check event types when a generic source could emit any", () => {
    expect(
      warningsOf(`
sources:
${socialboards}
  billing: { type: generic, signature: x-hub-signature-256, secret: s }
targets:
  support-slack: { type: slack, token: t, channel: "#support" }
routes:
  - match: { event: invoice.paid }
    to: [support-slack]
`),
    ).toEqual([]);
  });

  it("warns about a source that anyone who knows its URL can post to", () => {
    expect(
      warningsOf(`
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
  sms:
    type: sonar
    urlToken: none
targets:
  support-slack: { type: slack, token: t, channel: "#support" }
routes:
  - to: [support-slack]
`),
    ).toEqual([
      `relay.yaml:3:65 sources.socialboards.urlToken: urlToken is none: anyone who knows the URL /webhooks/socialboards can post events to it; set a secret, e.g. "\${SOCIALBOARDS_URL_TOKEN}"`,
      `relay.yaml:6:15 sources.sms.urlToken: urlToken is none: anyone who knows the URL /webhooks/sms can post events to it; set a secret, e.g. "\${SMS_URL_TOKEN}"`,
    ]);
  });

  it("warns about a config with no routes or no targets, as a file cut short after sources: is", () => {
    expect(warningsOf(`\nsources:\n${socialboards}\n`)).toEqual([
      "relay.yaml targets: no targets, so nothing is delivered: every webhook is answered 200 and matches no route; add one (docs/targets/), or finish the file if it was cut short",
      "relay.yaml routes: no routes, so nothing is delivered: every webhook is answered 200 and matches no route; add one (`- to: [<target>]`), or finish the file if it was cut short",
    ]);
    expect(
      warningsOf(`
sources:
${socialboards}
targets:
  support-slack: { type: slack, token: t, channel: "#support" }
routes: []
`),
    ).toEqual([
      'relay.yaml:5:18 targets.support-slack: no route sends to target "support-slack" (and no target falls back to it)',
      "relay.yaml:6:9 routes: no routes, so nothing is delivered: every webhook is answered 200 and matches no route; add one (`- to: [<target>]`), or finish the file if it was cut short",
    ]);
  });
});

describe("unknown keys", () => {
  it.each([
    ["chanel_id", "channel"],
    ["api_url", "apiUrl"],
    ["fallbak", "fallback"],
  ])("suggests the key of that object that %s was meant as", (typo, meant) => {
    const problems = problemsOf(`
sources:
${socialboards}
targets:
  support-slack:
    type: slack
    token: t
    channel: "#support"
    ${typo}: x
`);
    expect(problems).toContainEqual(
      `relay.yaml:9:${5 + typo.length + 2} targets.support-slack.${typo}: unknown key "${typo}" — did you mean "${meant}"?`,
    );
  });

  it("lists the keys there are when none is close", () => {
    const problems = problemsOf(`sources:\n${socialboards}\nserver: { prot: 80, colour: blue }\n`);
    expect(problems).toContainEqual(
      'relay.yaml:3:17 server.prot: unknown keys "prot" (did you mean "port"?), "colour" (keys here: port, host, bodyLimit, maxEventsPerWebhook, maxBodyBytesInFlight, maxConnections, headersTimeout, requestTimeout, trustProxy)',
    );
  });
});

describe("ticket-relay check", () => {
  const warned = writeConfig(`
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support-slack: { type: slack, token: t, channel: "#support" }
routes:
  - to: [support-slack]
`);

  it("prints warnings with their file and line and still exits 0", async () => {
    const { code, stdout, stderr } = await runCli(["check", "--config", warned]);
    expect(code).toBe(0);
    expect(stdout).toContain(`${warned}: OK — 1 source, 1 target, 1 route; 1 warning (--strict fails on warnings)`);
    expect(stderr).toContain(`warning: ${warned}:3:65 sources.socialboards.urlToken: urlToken is none`);
  });

  it("exits 1 on warnings with --strict", async () => {
    const { code, stdout, stderr } = await runCli(["check", "--strict", "--config", warned]);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain(`${warned}: 1 warning, and --strict fails on warnings`);
    expect(stderr).toContain(`warning: ${warned}:3:65 sources.socialboards.urlToken:`);
  });

  it("fails --strict on a file cut short after its sources, which is valid but delivers nothing", async () => {
    const cut = writeConfig(
      `sources:\n  socialboards: { type: socialboards, verifyToken: v, urlToken: secret-token }\n`,
    );
    const { code, stderr } = await runCli(["check", "--strict", "--config", cut]);
    expect(code).toBe(1);
    expect(stderr).toContain(`${cut}: 2 warnings, and --strict fails on warnings`);
    expect(stderr).toContain(`warning: ${cut} routes: no routes, so nothing is delivered`);
  });

  it("passes --strict on the shipped config", async () => {
    const { code, stdout } = await runCli(["check", "--strict"], {
      env: { SOCIALBOARDS_VERIFY_TOKEN: "v", SOCIALBOARDS_URL_TOKEN: "u", SLACK_BOT_TOKEN: "xoxb-x" },
    });
    expect(code).toBe(0);
    expect(stdout).toBe("config/relay.yaml: OK — 1 source, 1 target, 1 route\n");
  });
});
