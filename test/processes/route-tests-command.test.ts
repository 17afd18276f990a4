import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli } from "../support/cli-run.js";

/** Dummy values for the shipped config's ${VAR}s; nothing is sent, and no Redis is needed. */
const shippedEnv = {
  SOCIALBOARDS_VERIFY_TOKEN: "verify-dummy",
  SOCIALBOARDS_URL_TOKEN: "url-dummy",
  SLACK_BOT_TOKEN: "xoxb-dummy",
  REDIS_URL: "redis://127.0.0.1:1",
};

const fixtures = resolve("test/fixtures");

const relayYaml = `
redis: { url: "redis://127.0.0.1:1" }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
  sonar: { type: sonar, urlToken: none }
targets:
  support-slack: { type: slack, token: xoxb-test, channel: "#support" }
  crm: { type: http, url: "https://crm.example.com/hooks" }
routes:
  - name: pending-to-support
    match: { event: ticket_status_change, previousStatus: open, status: [pending, closed] }
    to: [support-slack, crm]
  - name: sms
    match: { sourceType: sonar }
    to: [crm]
`;

/** A config folder of its own: relay.yaml, and tests/<name> for each test file given. */
function configFolder(tests: Record<string, string>): { dir: string; config: string } {
  const dir = mkdtempSync(join(tmpdir(), "relay-tests-"));
  writeFileSync(join(dir, "relay.yaml"), relayYaml);
  mkdirSync(join(dir, "tests"));
  mkdirSync(join(dir, "tests", "payloads"));
  writeFileSync(
    join(dir, "tests", "payloads", "sms.json"),
    JSON.stringify({ action: "new_assigned_message", text: "Is my order on its way?", customer: { name: "Robert" } }),
  );
  for (const [name, text] of Object.entries(tests)) writeFileSync(join(dir, "tests", name), text);
  return { dir, config: join(dir, "relay.yaml") };
}

const testCommand = (args: string[], env: NodeJS.ProcessEnv = {}) => runCli(["test", ...args], { env });

describe("ticket-relay test", () => {
  it("passes the route tests shipped in config/tests against the shipped config", async () => {
    const { code, stdout, stderr } = await testCommand([], shippedEnv);
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toMatch(/^pass {2}.*open → pending.*support-slack/m);
    expect(stdout).not.toMatch(/^FAIL/m);
    expect(stdout).toMatch(/^\d+ cases?: \d+ passed, 0 failed$/m);
  });

  it("runs a payload file beside the test file, an inline payload, a fixture path, in any target order", async () => {
    const { config } = configFolder({
      "routes.yaml": `
- name: an open → pending change goes to Slack and the CRM
  payload: ${join(fixtures, "socialboards", "ticket_status_change.json")}
  expect:
    targets: [crm, support-slack]
  contains:
    support-slack: ["open → pending", "Cat is ill"]
    crm: ["4478963"]
- name: an SMS goes to the CRM
  payload: payloads/sms.json
  source: sonar
  expect: { targets: [crm], contains: { crm: "Is my order on its way?" } }
- name: a reply goes nowhere
  payload:
    CommunityName: yourCompany
    EventType: reply_creation
    Events: [{ TicketId: 4478963, Reply: { Message: "Thanks!" } }]
  expect: { targets: [] }
`,
    });
    const { code, stdout, stderr } = await testCommand(["--config", config]);
    expect(stderr).toBe("");
    expect(stdout.trim().split("\n")).toEqual([
      "pass  an open → pending change goes to Slack and the CRM",
      "pass  an SMS goes to the CRM",
      "pass  a reply goes nowhere",
      "3 cases: 3 passed, 0 failed",
    ]);
    expect(code).toBe(0);
  });

  it("fails a case whose targets differ, saying what differed and why the route did not match", async () => {
    const { config } = configFolder({
      "wrong.yaml": `
- name: a pending → open change goes to Slack
  payload:
    CommunityName: yourCompany
    EventType: ticket_status_change
    Events: [{ TicketId: 4478963, PreviousTicketStatus: pending, Ticket: { Id: 4478963, Status: open } }]
  expect: { targets: [support-slack] }
- name: a status change goes nowhere
  payload: ${join(fixtures, "socialboards", "ticket_status_change.json")}
  expect: { targets: [] }
`,
    });
    const { code, stdout } = await testCommand(["--config", config]);
    expect(code).toBe(1);
    const lines = stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^FAIL {2}a pending → open change goes to Slack \(.*wrong\.yaml:2\): /);
    expect(lines[0]).toContain("expected [support-slack], got none");
    expect(lines[0]).toContain('pending-to-support: previousStatus is "pending", wanted "open"');
    expect(lines[1]).toMatch(/^FAIL {2}a status change goes nowhere \(.*wrong\.yaml:8\): /);
    expect(lines[1]).toContain("expected none, got [support-slack, crm]");
    expect(lines.at(-1)).toBe("2 cases: 0 passed, 2 failed");
  });

  it("fails a case whose message lacks an expected fragment, naming the target and the fragment", async () => {
    const { config } = configFolder({
      "contains.yaml": `
- name: the Slack message says the new status
  payload: ${join(fixtures, "socialboards", "ticket_status_change.json")}
  expect: { targets: [support-slack, crm] }
  contains: { support-slack: ["open → closed"] }
`,
    });
    const { code, stdout } = await testCommand(["--config", config]);
    expect(code).toBe(1);
    expect(stdout).toMatch(
      /^FAIL {2}the Slack message says the new status .*support-slack's message lacks "open → closed"/m,
    );
  });

  it("refuses a malformed test file with its file, line and key, and runs the others", async () => {
    const { dir, config } = configFolder({
      "good.yaml": `
- name: an SMS goes to the CRM
  payload: payloads/sms.json
  expect: { targets: [crm] }
`,
      "bad.yaml": `
- name: no expectations
  payload: payloads/sms.json
  expcet: { targets: [crm] }
`,
    });
    const { code, stdout, stderr } = await testCommand(["--config", config]);
    expect(code).toBe(1);
    expect(stdout).toContain("pass  an SMS goes to the CRM");
    expect(stderr).toContain(
      `${join(dir, "tests", "bad.yaml")}:4:11 [0].expcet: unknown key "expcet" — did you mean "expect"?`,
    );
    expect(stderr).toMatch(/bad\.yaml:2:\d+ \[0\]\.expect: required/);
  });

  it("fails a case whose payload file is missing, with its line", async () => {
    const { config } = configFolder({
      "missing.yaml": `
- name: a lost payload
  payload: payloads/nowhere.json
  expect: { targets: [] }
`,
    });
    const { code, stdout } = await testCommand(["--config", config]);
    expect(code).toBe(1);
    expect(stdout).toMatch(/^FAIL {2}a lost payload \(.*missing\.yaml:2\): payload .*nowhere\.json: file not found$/m);
  });

  it("runs only the files named on the command line", async () => {
    const { dir, config } = configFolder({
      "one.yaml": "- name: first\n  payload: payloads/sms.json\n  expect: { targets: [crm] }\n",
      "two.yaml": "- name: second\n  payload: payloads/sms.json\n  expect: { targets: [] }\n",
    });
    const { code, stdout } = await testCommand(["--config", config, join(dir, "tests", "one.yaml")]);
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toEqual(["pass  first", "1 case: 1 passed, 0 failed"]);
  });
});
