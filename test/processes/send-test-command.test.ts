import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../support/cli-run.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { type SlackApiServer, startSlackApi } from "../support/slack-api.js";
import { type SmtpServer, startSmtpServer } from "../support/smtp.js";

const slackToken = "xoxb-send-test";
const marker = "ticket-relay test message — not a real ticket";

/**
 * `ticket-relay send-test`: one test message through each real target, straight from the
 * command (no queue: nothing listens on the config's Redis port).
 */
describe("ticket-relay send-test", () => {
  let slack: SlackApiServer;
  let smtp: SmtpServer;
  let sink: HttpSink;
  let config: string;

  beforeAll(async () => {
    [slack, smtp, sink] = await Promise.all([
      startSlackApi({ token: slackToken, channels: ["#support"] }),
      startSmtpServer(),
      startHttpSink(),
    ]);
    config = writeConfig(`
redis: { url: "redis://127.0.0.1:1" }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support-slack: { type: slack, token: ${slackToken}, channel: "#support", apiUrl: "${slack.url}" }
  oncall-email: { type: email, smtp: "${smtp.url}", from: "Relay <relay@example.com>", to: oncall@example.com }
  crm: { type: http, url: "${sink.url}/hooks" }
  lost-slack: { type: slack, token: ${slackToken}, channel: "#nowhere", apiUrl: "${slack.url}" }
routes:
  - to: [support-slack, oncall-email, crm, lost-slack]
`);
  });

  afterAll(async () => {
    await Promise.all([slack?.close(), smtp?.close(), sink?.close()]);
  });

  beforeEach(() => {
    slack.reset();
    smtp.reset();
    sink.reset();
  });

  const sendTest = (...args: string[]) => runCli(["send-test", ...args, "--config", config]);

  it("sends a marked test message to Slack and says what Slack answered", async () => {
    const { code, stdout } = await sendTest("support-slack");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^support-slack {2}delivered: posted to C0123456789 at \d+\.\d+$/m);
    expect(slack.posts).toHaveLength(1);
    expect(slack.posts[0]?.channel).toBe("#support");
    expect(slack.posts[0]?.text).toContain(marker);
    expect(slack.posts[0]?.text).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/);
  });

  it("sends the email and the HTTP request through the real SMTP server and endpoint", async () => {
    const email = await sendTest("oncall-email");
    expect(email.code).toBe(0);
    expect(email.stdout).toMatch(/^oncall-email {2}delivered: accepted by SMTP as <.+>$/m);
    expect(smtp.messages[0]?.subject).toContain(marker);
    expect(smtp.messages[0]?.text).toContain("not a real ticket");

    const http = await sendTest("crm");
    expect(http.code).toBe(0);
    expect(http.stdout).toMatch(/^crm {2}delivered: HTTP 200$/m);
    expect(sink.requests).toHaveLength(1);
    expect(sink.requests[0]?.json).toMatchObject({ title: expect.stringContaining(marker), route: "send-test" });
  });

  it("with --all, says per target whether it was delivered, why not, and exits 1 when one was not", async () => {
    const { code, stdout } = await runCli(["send-test", "--all", "--config", config]);
    expect(code).toBe(1);
    const lines = stdout.trim().split("\n");
    expect(lines).toHaveLength(5);
    expect(lines[0]).toMatch(/^support-slack {2}delivered: /);
    expect(lines[1]).toMatch(/^oncall-email {2}delivered: /);
    expect(lines[2]).toMatch(/^crm {2}delivered: HTTP 200/);
    expect(lines[3]).toBe(
      "lost-slack  not delivered, a permanent failure (trying again will not help): Slack: channel_not_found",
    );
    expect(lines[4]).toBe("3 of 4 targets delivered");
    expect(slack.posts).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(sink.requests).toHaveLength(1);
  });

  it("words a failure worth retrying as temporary", async () => {
    smtp.failNext("temporary");
    sink.respondWith({ status: 503, body: "down for maintenance" });
    const email = await sendTest("oncall-email");
    expect(email.code).toBe(1);
    expect(email.stdout).toContain(
      "oncall-email  not delivered, a temporary failure (the relay would try again later): SMTP 451",
    );
    const http = await sendTest("crm");
    expect(http.code).toBe(1);
    expect(http.stdout).toMatch(/^crm {2}not delivered, a temporary failure .*answered 503: down for maintenance$/m);
  });

  it("suggests the target meant by a typo, and needs a target or --all", async () => {
    const typo = await sendTest("suport-slack");
    expect(typo.code).toBe(2);
    expect(typo.stderr).toContain('no target "suport-slack"');
    expect(typo.stderr).toContain('did you mean "support-slack"?');
    const none = await sendTest();
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/a target id or --all/);
    expect(slack.calls).toBe(0);
  });
});
