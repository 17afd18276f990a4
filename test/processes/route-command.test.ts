import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../support/cli-run.js";

/**
 * `ticket-relay route --event FILE`: a dry run of the routes. Nothing listens on the Redis port
 * the config names, so every test here also proves that the command needs no Redis.
 */
const config = writeConfig(`
redis: { url: "redis://127.0.0.1:1" }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
  sonar: { type: sonar, urlToken: none }
targets:
  support-slack: { type: slack, token: xoxb-test, channel: "#support" }
  oncall-email: { type: email, smtp: "smtp://127.0.0.1:2525", from: "Relay <relay@example.com>", to: oncall@example.com }
  crm: { type: http, url: "https://crm.example.com/hooks?apikey=not-shown" }
routes:
  - name: reopened
    match: { event: ticket_status_change, previousStatus: pending, status: open }
    to: [oncall-email]
  - name: pending-to-support
    match: { source: socialboards, event: ticket_status_change, previousStatus: open, status: [pending, closed] }
    to: [support-slack, crm]
    continue: true
  - name: everything-else
    to: [crm, oncall-email]
  - name: replies
    match: { event: "reply_*" }
    to: [support-slack]
`);

const shippedEnv = {
  SOCIALBOARDS_VERIFY_TOKEN: "verify-dummy",
  SOCIALBOARDS_URL_TOKEN: "url-dummy",
  SLACK_BOT_TOKEN: "xoxb-dummy",
  REDIS_URL: "redis://127.0.0.1:1",
};

const route = (...args: string[]) => runCli(["route", ...args]);
/** The time of the run is the only thing that differs from one run to the next. */
const withoutNow = (text: string) => text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/g, "<now>");

function payloadFile(body: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), "relay-route-")), "payload.json");
  writeFileSync(file, JSON.stringify(body));
  return file;
}

describe("ticket-relay route", () => {
  it("shows which routes take a fixture, why the others do not, and the exact message each target would get", async () => {
    const { code, stdout, stderr } = await route(
      "--event",
      "test/fixtures/socialboards/ticket_status_change.json",
      "--config",
      config,
    );
    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain('reopened: previousStatus is "open", wanted "pending"');
    await expect(withoutNow(stdout)).toMatchFileSnapshot("../golden/route/ticket_status_change.txt");
  });

  it("prints the same as one JSON document with --json", async () => {
    const { code, stdout } = await route(
      "--event",
      "test/fixtures/socialboards/ticket_status_change.json",
      "--config",
      config,
      "--json",
    );
    expect(code).toBe(0);
    const report = JSON.parse(stdout);
    expect(report.events[0].targets).toEqual(["support-slack", "crm", "oncall-email"]);
    expect(report.events[0].routes[0]).toMatchObject({
      route: "reopened",
      matched: false,
      reason: 'previousStatus is "open", wanted "pending"',
    });
    await expect(`${withoutNow(stdout)}\n`).toMatchFileSnapshot("../golden/route/ticket_status_change.json.txt");
  });

  it("says which condition of the shipped route a pending → open change fails", async () => {
    const reopened = JSON.parse(readFileSync("test/fixtures/socialboards/ticket_status_change.json", "utf8"));
    reopened.Events[0].PreviousTicketStatus = "pending";
    reopened.Events[0].Ticket.Status = "open";
    const { code, stdout } = await runCli(["route", "--event", payloadFile(reopened)], { env: shippedEnv });
    expect(code).toBe(0);
    expect(stdout).toContain('pending-to-support: previousStatus is "pending", wanted "open"');
    expect(stdout).toMatch(/no target receives it/);
  });

  it("takes a Sonar payload to the first sonar source by itself", async () => {
    const { code, stdout } = await route("--event", "test/fixtures/sonar/customer_created.json", "--config", config);
    expect(code).toBe(0);
    expect(stdout).toContain("source    sonar");
    expect(stdout).toContain('✗ pending-to-support: source is "sonar", wanted "socialboards"');
    expect(stdout).toContain("– replies: not tried, everything-else took the event and has no continue");
  });

  it("asks for --source when the payload is no platform's it knows", async () => {
    const { code, stderr } = await route("--event", payloadFile({ type: "invoice.paid" }), "--config", config);
    expect(code).toBe(2);
    expect(stderr).toMatch(/--source/);
  });

  it("refuses a payload that is not the named source's, saying why", async () => {
    const { code, stderr } = await route(
      "--event",
      payloadFile({ action: "customer_created" }),
      "--source",
      "socialboards",
      "--config",
      config,
    );
    expect(code).toBe(1);
    expect(stderr).toMatch(/not a Socialboards webhook/);
  });

  it("names a missing payload file", async () => {
    const { code, stderr } = await route("--event", "no/such/file.json", "--config", config);
    expect(code).toBe(1);
    expect(stderr).toMatch(/no\/such\/file\.json/);
  });
});
