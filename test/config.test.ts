import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { parseConfig } from "../src/config/load.js";

const env = {
  VERIFY: "verify-secret",
  URL_TOKEN: "url-token-5f1c",
  SLACK: "fake-slack-token",
  SMTP: "smtp://127.0.0.1:2525",
};

const valid = `
sources:
  socialboards:
    type: socialboards
    verifyToken: \${VERIFY}
    urlToken: \${URL_TOKEN}
targets:
  support-slack: { type: slack, token: "\${SLACK}", channel: "#support" }
  oncall-email: { type: email, smtp: "\${SMTP}", from: "Relay <relay@example.com>", to: oncall@example.com }
  crm: { type: http, url: "https://crm.example.com/hooks", timeout: 5s }
routes:
  - name: pending
    match: { event: ticket_status_change, status: [pending, closed] }
    to: [support-slack, oncall-email]
    continue: true
  - to: [crm]
`;

function problemsOf(text: string, environment: NodeJS.ProcessEnv = env): string[] {
  try {
    parseConfig(text, "relay.yaml", environment);
  } catch (error) {
    if (error instanceof ConfigError) return error.message.split("\n");
    throw error;
  }
  throw new Error("expected a ConfigError");
}

describe("config", () => {
  it("fills in documented defaults and converts units", () => {
    const config = parseConfig(valid, "relay.yaml", env);
    expect(config.server).toEqual({
      port: 8080,
      host: "0.0.0.0",
      bodyLimit: 1024 * 1024,
      maxEventsPerWebhook: 1000,
      maxBodyBytesInFlight: 64 * 1024 * 1024,
      maxConnections: 1024,
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      trustProxy: false,
    });
    expect(config.history).toEqual({
      enabled: true,
      maxAge: 7 * 24 * 3_600_000,
      maxWebhooks: 100_000,
      refused: 1000,
      bodies: "failures",
    });
    expect(config.workers).toEqual({
      concurrency: 50,
      lockDuration: 10_000,
      stalledInterval: 5000,
      shutdownTimeout: 10_000,
      opsPort: 9464,
    });
    expect(config.redis).toEqual({ url: "redis://127.0.0.1:6379", prefix: "relay", dataDir: "data/redis" });
    expect(config.retry).toEqual({
      attempts: 8,
      backoff: "schedule",
      schedule: [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      delay: 1000,
      maxDelay: 43_200_000,
    });
    expect(config.deadLetters).toEqual({ keep: 30 * 24 * 3_600_000, max: 10_000 });
    expect(config.sources.socialboards?.dedupe).toEqual({ window: 24 * 3_600_000 });
    expect(config.targets.crm).toMatchObject({ method: "POST", headers: {}, timeout: 5000 });
    expect(config.targets["oncall-email"]).toMatchObject({ to: ["oncall@example.com"] });
    expect(config.routes[1]).toMatchObject({ match: {}, continue: false });
  });

  it("takes secrets from the environment, with defaults", () => {
    const text = `${valid}\nredis: { url: "\${REDIS_URL:-redis://cache:6379}" }\n`;
    const config = parseConfig(text, "relay.yaml", env);
    expect(config.sources.socialboards).toMatchObject({ verifyToken: "verify-secret" });
    expect(config.redis.url).toBe("redis://cache:6379");
    expect(parseConfig(text, "relay.yaml", { ...env, REDIS_URL: "redis://other:1" }).redis.url).toBe("redis://other:1");
  });

  it("lets PORT override server.port", () => {
    expect(parseConfig(valid, "relay.yaml", { ...env, PORT: "9999" }).server.port).toBe(9999);
  });

  it("names the file, line and key of an unknown target and suggests the right one", () => {
    const typo = valid.replace("to: [support-slack, oncall-email]", "to: [suport-slack, oncall-email]");
    expect(problemsOf(typo)).toEqual([
      'relay.yaml:14:10 routes[0].to[0]: unknown target "suport-slack" — did you mean "support-slack"?',
    ]);
  });

  it("reports an unset variable once, where it is used", () => {
    const problems = problemsOf(valid, { ...env, SLACK: undefined });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^relay\.yaml:8:\d+ targets\.support-slack\.token: environment variable SLACK is not set/,
    );
  });

  it("rejects unknown keys, naming the key", () => {
    const problems = problemsOf(valid.replace('channel: "#support"', 'chanel: "#support"'));
    expect(problems).toContainEqual(
      expect.stringMatching(/^relay\.yaml:8:\d+ targets\.support-slack\.chanel: unknown key "chanel"/),
    );
    expect(problems).toContainEqual(expect.stringMatching(/targets\.support-slack\.channel: required/));
  });

  it("rejects match keys it does not know, so a typo cannot make a route that never matches", () => {
    const problems = problemsOf(valid.replace("status: [pending, closed]", "staus: [pending, closed]"));
    expect(problems.join("\n")).toMatch(
      /routes\[0\]\.match\.staus: unknown match field "staus" — did you mean "status"\?/,
    );
  });

  it.each([
    [
      "a regex that does not compile",
      'status: { regex: "([a-z" }',
      /match\.status\.regex: not a valid regular expression/,
    ],
    ["an operator it does not know", "status: { regx: pend }", /match\.status.*"regx"/],
    ["an empty operator object", "status: {}", /match\.status: name an operator/],
    ["a number bound that is not a number", "status: { gt: many }", /match\.status\.gt/],
    ["an empty list", "status: []", /match\.status: list at least one value/],
    ["a key that is only an inherited property name", "constructor: x", /unknown match field "constructor"/],
  ])("rejects a match with %s", (_, condition, expected) => {
    const problems = problemsOf(valid.replace("status: [pending, closed]", condition));
    expect(problems.join("\n")).toMatch(expected);
  });

  it.each([
    ["an unknown target", "slack-bakup", "", /unknown target "slack-bakup" — did you mean "slack-backup"\?/],
    ["the target itself", "support-slack", "", /cannot be its own fallback/],
    ["a circle", "slack-backup", "fallback: support-slack", /circle: support-slack → slack-backup → support-slack/],
  ])("refuses a fallback that names %s, with its line", (_, fallback, backupFallback, message) => {
    const problems = problemsOf(`
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support-slack:
    type: slack
    token: t
    channel: "#support"
    fallback: ${fallback}
  slack-backup: { type: slack, token: t, channel: "#backup", ${backupFallback} }
`).join("\n");
    expect(problems).toMatch(message);
    expect(problems).toMatch(/relay\.yaml:9:\d+ targets\.support-slack\.fallback/);
  });

  it("accepts a fallback to another target", () => {
    const config = parseConfig(
      valid.replace('channel: "#support" }', 'channel: "#support", fallback: oncall-email }'),
      "relay.yaml",
      env,
    );
    expect(config.targets["support-slack"]?.fallback).toBe("oncall-email");
  });

  it("refuses a variable that is set but empty, naming it, as .env.example leaves them", () => {
    const problems = problemsOf(valid, { ...env, SLACK: "" });
    expect(problems).toEqual([
      expect.stringMatching(/^relay\.yaml:8:\d+ targets\.support-slack\.token: environment variable SLACK is empty/),
    ]);
  });

  it("refuses a Socialboards or Sonar source without urlToken, unless it says none on purpose", () => {
    const problems = problemsOf("sources:\n  sb: { type: socialboards, verifyToken: v }\n  sms: { type: sonar }\n");
    expect(problems).toEqual([
      expect.stringMatching(/^relay\.yaml:2:\d+ sources\.sb\.urlToken: required: POSTs must carry \?token=/),
      expect.stringMatching(/^relay\.yaml:3:\d+ sources\.sms\.urlToken: required: .*urlToken: none/),
    ]);
    const open = parseConfig("sources: { sb: { type: socialboards, verifyToken: v, urlToken: none } }", "r.yaml", {});
    expect(open.sources.sb).toMatchObject({ urlToken: undefined });
  });

  it("refuses the placeholder SMTP host that .env.example ships", () => {
    const problems = problemsOf(valid, { ...env, SMTP: "smtp://user:password@smtp.example.com:587" });
    expect(problems).toEqual([
      expect.stringMatching(/targets\.oncall-email\.smtp: smtp\.example\.com is the placeholder from \.env\.example/),
    ]);
    expect(problems.join("")).not.toContain("user:password@smtp.example.com");
  });

  it("lists every problem at once", () => {
    const broken = valid
      .replace("type: slack", "type: carrier-pigeon")
      .replace("timeout: 5s", "timeout: soon")
      .replace("to: [crm]", "to: [crm, nobody]");
    const problems = problemsOf(broken);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(
      /targets\.support-slack\.type: Invalid discriminator value. Expected 'slack' \| 'email' \| 'http'/,
    );
    expect(problems[1]).toMatch(/targets\.crm\.timeout: use a duration/);
    expect(problems[2]).toMatch(
      /routes\[1\]\.to\[1\]: unknown target "nobody" \(defined: support-slack, oncall-email, crm\)/,
    );
  });

  it.each([
    [
      "an http target's url",
      'crm: { type: http, url: "https://relay:s3cret@crm.example.com/hooks" }',
      "targets.crm.url",
    ],
    [
      "a slack target's apiUrl",
      'support-slack: { type: slack, token: "x", channel: "#support", apiUrl: "https://proxy:s3cret@slack.example.com/api/" }',
      "targets.support-slack.apiUrl",
    ],
  ])("refuses credentials in %s, where they would be logged, and says where they go instead", (_, target, key) => {
    const text = `sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }\ntargets:\n  ${target}\n`;
    const problems = problemsOf(text);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^relay\\.yaml:3:\\d+ ${key.replace(/\./g, "\\.")}: `));
    expect(problems[0]).toMatch(/user:password@/);
    expect(problems[0]).toMatch(/headers|token/);
    expect(problems[0]).not.toContain("s3cret");
  });

  it("accepts a query string in an http target's url", () => {
    const text = valid.replace("https://crm.example.com/hooks", "https://crm.example.com/hooks?apikey=abc");
    expect(parseConfig(text, "relay.yaml", env).targets.crm).toMatchObject({
      url: "https://crm.example.com/hooks?apikey=abc",
    });
  });

  it.each([
    ["a bad duration", valid.replace("timeout: 5s", "timeout: 5 parsecs"), /timeout: use a duration/],
    [
      "a source id that cannot be a URL segment",
      valid.replace("  socialboards:\n", "  social boards:\n"),
      /use letters, digits/,
    ],
    [
      "an empty verify token",
      valid.replace(`verifyToken: ${"$"}{VERIFY}`, 'verifyToken: ""'),
      /verifyToken: must not be empty/,
    ],
    [
      "an http target without a URL scheme",
      valid.replace("https://crm.example.com/hooks", "crm.example.com"),
      /targets\.crm\.url/,
    ],
    ["no sources", "targets: {}\n", /sources: required/],
    ["invalid YAML", "sources: [\n", /relay\.yaml:\d+:\d+ YAML:/],
  ])("rejects %s", (_, text, expected) => {
    expect(problemsOf(text).join("\n")).toMatch(expected);
  });
});
