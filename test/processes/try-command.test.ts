import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../support/cli-run.js";
import { freePort } from "../support/free-port.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { uniquePrefix } from "../support/relay.js";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.js";
import { type SlackApiServer, startSlackApi } from "../support/slack-api.js";
import { useRedis } from "../support/use-redis.js";

const slackToken = "xoxb-try-test";

/** The JSON `try --json` prints, as far as these tests read it. */
interface TryReport {
  event: string;
  source: string;
  receipt?: string;
  deliveries: { id: string; target: string; route: string; state: string; detail?: string }[];
  ok: boolean;
}

/**
 * `ticket-relay try` as a new user runs it in a second terminal: against a relay running as a
 * process, with a real Redis, a Slack API stand-in and an HTTP receiver.
 */
describe("ticket-relay try", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let sink: HttpSink;
  let relay: RelayProcess;
  let port: number;
  let configFile: string;

  const config = (options: { port: number; prefix: string; urlToken?: string }) => `
server: { port: ${options.port}, host: 127.0.0.1 }
redis: { url: "${redis.url}", prefix: ${options.prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: ${options.urlToken ?? "sb-url-token"} }
  sonar: { type: sonar, urlToken: sonar-url-token }
  forms: { type: generic, signature: x-hub-signature-256, secret: s }
targets:
  support-slack: { type: slack, token: ${slackToken}, channel: "#support", apiUrl: "${slack.url}" }
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - name: status-changes
    match: { event: ticket_status_change }
    to: [support-slack, crm]
  - name: sms-to-crm
    match: { sourceType: sonar }
    to: [crm]
`;

  beforeAll(async () => {
    [slack, sink, port] = await Promise.all([startSlackApi({ token: slackToken }), startHttpSink(), freePort()]);
    const yaml = config({ port, prefix: uniquePrefix() });
    relay = await startRelayProcess(yaml);
    configFile = writeConfig(yaml);
  });

  afterAll(async () => {
    relay?.kill("SIGTERM");
    await relay?.exited;
    await Promise.all([slack?.close(), sink?.close()]);
  });

  // try waits up to 15 s for the deliveries; the rest is room for a CLI that starts slowly on a
  // busy machine (the processes suite runs its files side by side).
  const tryCommand = (...args: string[]) => runCli(["try", ...args, "--config", configFile], { timeoutMs: 30_000 });
  const requestsFor = (receipt: string) =>
    sink.requests.filter((request) =>
      String((request.json as { deliveryId?: string })?.deliveryId).startsWith(receipt),
    );

  it("posts a status change to the running relay and follows it to Slack and the HTTP target", async () => {
    const postsBefore = slack.posts.length;
    const { code, stdout, stderr } = await tryCommand();

    expect(stderr).toBe("");
    expect(code).toBe(0);
    expect(stdout).toContain("ticket_status_change");
    expect(stdout).toContain("open → pending");
    expect(stdout).toMatch(/status-changes → support-slack, crm/);
    const receipt = /receipt ([0-9a-f-]{36})/.exec(stdout)?.[1] ?? "";
    expect(receipt).not.toBe("");
    expect(stdout).toMatch(new RegExp(`delivered\\s+${receipt}\\.0\\.support-slack\\s+posted to C0123456789 at \\d+`));
    expect(stdout).toMatch(new RegExp(`delivered\\s+${receipt}\\.0\\.crm\\s+HTTP 200`));

    expect(slack.posts.length).toBe(postsBefore + 1);
    expect(slack.posts.at(-1)?.channel).toBe("#support");
    expect(JSON.stringify(slack.posts.at(-1))).toContain("Cat is ill");
    expect(requestsFor(receipt)).toHaveLength(1);
  });

  it("posts under a sample ticket number of its own, and its message says it is a sample", async () => {
    const { code, stdout } = await tryCommand();

    expect(code).toBe(0);
    expect(stdout).toContain("as ticket #9990001");
    const receipt = /receipt ([0-9a-f-]{36})/.exec(stdout)?.[1] ?? "";
    const post = slack.posts.at(-1);
    expect(post?.text).toMatch(
      /^Ticket #9990001 "Cat is ill \(sample: ticket-relay try [0-9a-f]{6}\)": open → pending$/,
    );
    expect(JSON.stringify(post)).not.toContain("4478963");
    expect(JSON.stringify(requestsFor(receipt)[0]?.json)).toContain('"ticketId":"9990001"');
  });

  it("is not taken for a duplicate when run twice in a row", async () => {
    const first = await tryCommand("--json");
    const second = await tryCommand("--json");

    expect([first.code, second.code]).toEqual([0, 0]);
    const reports = [first, second].map((run) => JSON.parse(run.stdout) as TryReport);
    expect(reports[0]?.receipt).not.toBe(reports[1]?.receipt);
    for (const report of reports) {
      expect(report.ok).toBe(true);
      expect(report.deliveries.map((delivery) => [delivery.target, delivery.state])).toEqual([
        ["support-slack", "delivered"],
        ["crm", "delivered"],
      ]);
    }
  });

  it("takes any Sonar event from the sonar source, with its token", async () => {
    const { code, stdout } = await tryCommand("new_assigned_message", "--json");

    expect(code).toBe(0);
    const report = JSON.parse(stdout) as TryReport;
    expect(report).toMatchObject({ event: "new_assigned_message", source: "sonar", ok: true });
    expect(report.deliveries).toEqual([
      expect.objectContaining({
        id: `${report.receipt}.0.crm`,
        target: "crm",
        route: "sms-to-crm",
        state: "delivered",
      }),
    ]);
  });

  it("says no route matches a reply, and exits 0 once the relay accepted it", async () => {
    const { code, stdout } = await tryCommand("reply_creation");

    expect(code).toBe(0);
    expect(stdout).toMatch(/accepted 1 event, receipt [0-9a-f-]{36}/);
    expect(stdout).toContain("no route matches this event");
    expect(stdout).toContain('"status-changes"');
    expect(stdout).toContain("reply_creation");
  });

  it("shows a delivery the receiver refuses as a dead letter, and exits 1", async () => {
    sink.respondWith({ status: 404 });
    const { code, stdout } = await tryCommand();

    expect(code).toBe(1);
    const receipt = /receipt ([0-9a-f-]{36})/.exec(stdout)?.[1] ?? "";
    expect(stdout).toMatch(new RegExp(`dead letter\\s+${receipt}\\.0\\.crm\\s+HTTP crm .* answered 404`));
    expect(stdout).toContain(`ticket-relay dlq show ${receipt}.0.crm`);
    expect(stdout).toMatch(new RegExp(`delivered\\s+${receipt}\\.0\\.support-slack`));
  });

  it("shows a delivery that will be tried again later as retrying, with its last error and next try", async () => {
    sink.respondWith({ status: 503 });
    const { code, stdout, ms } = await tryCommand("--wait", "3s");

    expect(code).toBe(1);
    expect(stdout).toMatch(/retrying\s+\S+\.0\.crm\s+.*answered 503.*next try/);
    // The next try (5 s by the default schedule) is after the wait: try stops waiting for it.
    expect(ms).toBeLessThan(8000);
  });

  it("says the token does not match when the running relay refuses it (401)", async () => {
    const other = writeConfig(config({ port, prefix: "unused", urlToken: "not-the-relays-token" }));
    const { code, stdout, stderr } = await runCli(["try", "--config", other]);

    expect(code).toBe(1);
    expect(stdout + stderr).toContain("401");
    expect(stdout + stderr).toMatch(/token .* does not match the running relay's/);
  });

  it("names the running relay as missing when nothing listens, and exits 1", async () => {
    const nothingThere = writeConfig(config({ port: await freePort(), prefix: "unused" }));
    const { code, stdout, stderr } = await runCli(["try", "--config", nothingThere]);

    expect(code).toBe(1);
    expect(stdout + stderr).toContain("is the relay running? start it with npm start");
  });

  it("shows deliveries as still queued when no worker runs", async () => {
    const ingestPort = await freePort();
    const yaml = config({ port: ingestPort, prefix: uniquePrefix() });
    const ingestOnly = await startRelayProcess(yaml, "ingest");
    try {
      const { code, stdout } = await runCli(["try", "--config", writeConfig(yaml), "--wait", "1s"]);

      expect(code).toBe(1);
      expect(stdout).toMatch(/still queued/);
      expect(stdout).toContain("npm start");
    } finally {
      ingestOnly.kill("SIGTERM");
      await ingestOnly.exited;
    }
  });

  it("lists the events it has samples of for an unknown event, and exits 2", async () => {
    const { code, stderr } = await tryCommand("ticket_exploded");

    expect(code).toBe(2);
    expect(stderr).toContain('no sample event "ticket_exploded"');
    for (const event of ["ticket_status_change", "reply_creation", "conversation_closed", "new_assigned_message"]) {
      expect(stderr).toContain(event);
    }
  });

  it("refuses a generic source, which has no sample payload, and a Sonar event for a Socialboards source", async () => {
    const generic = await tryCommand("--source", "forms");
    expect(generic.code).toBe(2);
    expect(generic.stderr).toMatch(/"forms" is a generic source/);

    const mismatch = await tryCommand("new_assigned_message", "--source", "socialboards");
    expect(mismatch.code).toBe(2);
    expect(mismatch.stderr).toContain("new_assigned_message is a Sonar event");
  });

  it("says a delivery to a muted target is held by the mute, and until when", async () => {
    const muted = await runCli(["mute", "crm", "--for", "1h", "--config", configFile]);
    expect(muted.code).toBe(0);
    try {
      const { code, stdout, ms } = await tryCommand("--wait", "3s");

      expect(code).toBe(1);
      expect(stdout).not.toContain("undefined");
      expect(stdout).toMatch(
        /held by mute\s+\S+\.0\.crm\s+not sent while muted \(target:crm until \d{4}-\d\d-\d\dT[\d:.]+Z\)/,
      );
      expect(stdout).toMatch(/delivered\s+\S+\.0\.support-slack/);
      // The mute outlasts the wait: try stops waiting for it.
      expect(ms).toBeLessThan(8000);
    } finally {
      expect((await runCli(["unmute", "crm", "--config", configFile])).code).toBe(0);
    }
  });

  it("has its own --help, which lists the sample events of each platform", async () => {
    const { code, stdout } = await runCli(["try", "--help"]);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: ticket-relay try \[EVENT\]/);
    expect(stdout).toMatch(/The sample EVENTs:\n {2}Socialboards:\n[\s\S]*ticket_status_change[\s\S]*\n {2}Sonar:\n/);
    for (const event of ["reply_creation", "conversation_closed", "new_assigned_message", "customer_created"]) {
      expect(stdout).toContain(event);
    }
  });
});
