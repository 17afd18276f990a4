import { spawn } from "node:child_process";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import type { WebhookStory } from "../../src/history/story.js";
import { runCli, writeConfig } from "../support/cli-run.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { type SlackApiServer, slackChannelId, slackWorkspaceUrl, startSlackApi } from "../support/slack-api.js";
import { replyCreation, statusChange, ticketCreation } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const slackToken = "xoxb-events-commands";
const urlToken = "url-token-4c9e1b7a";
const ticketId = 4478963;

/**
 * `ticket-relay events …` and `ticket-relay ticket` as a support lead runs them at a shell,
 * against the history a real relay wrote while delivering to the Slack stand-in and an HTTP
 * endpoint.
 */
describe("the events and ticket commands", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let sink: HttpSink;
  let relay: TestRelay;
  let reader: HistoryReader;
  let configFile: string;
  let yaml: string;

  beforeAll(async () => {
    [slack, sink] = await Promise.all([startSlackApi({ token: slackToken, channels: ["#support"] }), startHttpSink()]);
  });
  afterAll(async () => {
    await Promise.all([slack?.close(), sink?.close()]);
  });

  beforeEach(async () => {
    const prefix = uniquePrefix();
    yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: ${urlToken} }
targets:
  support-slack: { type: slack, token: "${slackToken}", channel: "#support", apiUrl: "${slack.url}", pace: 0 }
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
retry: { attempts: 3, backoff: fixed, delay: 50ms }
routes:
  - name: news-to-slack
    match: { event: [ticket_creation, reply_creation] }
    to: [support-slack]
  - name: pending-to-slack-and-crm
    match: { event: ticket_status_change, status: pending }
    to: [support-slack, crm]
`;
    relay = await startTestRelay(yaml);
    configFile = writeConfig(yaml);
    reader = new HistoryReader(redis.client, historyKeys(prefix));
  });
  afterEach(async () => {
    await relay.close();
    slack.reset();
    sink.reset();
  });

  const cli = (...args: string[]) => runCli([...args, "--config", configFile]);

  async function post(body: unknown): Promise<string> {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=${urlToken}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }

  /** Waits until the history tells the webhook's story up to `settled`. */
  async function settled(receipt: string, done = (story: WebhookStory) => story.deliveries.every(isOver)) {
    return waitFor(
      async () => {
        const story = await reader.show(receipt);
        return story !== undefined && done(story) ? story : undefined;
      },
      { what: `the history of ${receipt} to settle` },
    );
  }
  const isOver = (delivery: WebhookStory["deliveries"][number]) =>
    delivery.state === "delivered" || delivery.state === "dead" || delivery.state === "dropped";

  it("lists a delivered webhook and one no route took, newest first, each with its outcome", async () => {
    const delivered = await post(statusChange(ticketId, "open", "pending"));
    await settled(delivered);
    const unrouted = await post(statusChange(ticketId, "pending", "closed"));
    await settled(unrouted);

    const [text, json, noRoute] = await Promise.all([
      cli("events"),
      cli("events", "--json"),
      cli("events", "--outcome", "no-route"),
    ]);
    expect(text.code).toBe(0);
    const [header, first, second, ...rest] = text.stdout.trim().split("\n");
    expect(header).toMatch(/^RECEIPT\s+AGE\s+SOURCE\s+TICKET\s+EVENT\s+OUTCOME$/);
    expect(rest).toEqual([]);
    expect(first).toContain(unrouted);
    expect(first).toMatch(/socialboards\s+4478963\s+ticket_status_change pending → closed\s+no route$/);
    expect(second).toContain(delivered);
    expect(second).toMatch(/ticket_status_change open → pending\s+support-slack delivered, crm delivered$/);

    const page = JSON.parse(json.stdout) as { webhooks: WebhookStory[]; next: string | null };
    expect(page.webhooks.map((story) => story.webhook.id)).toEqual([unrouted, delivered]);
    expect(page.next).toBeNull();
    expect(page.webhooks[0]?.noRoute).toBe(true);

    // `events` with an option first is the list, not the group of `events show`.
    expect(noRoute.code).toBe(0);
    expect(noRoute.stdout).toContain(unrouted);
    expect(noRoute.stdout).not.toContain(delivered);
  });

  it("shows both tries of a 503 then 200, with the status, the answer and how long each took", async () => {
    sink.respondWith({ status: 503, body: "busy, come back later" });
    const receipt = await post(statusChange(ticketId, "open", "pending"));
    await settled(receipt);

    const [text, json, unknown] = await Promise.all([
      cli("events", "show", receipt),
      cli("events", "show", receipt, "--json"),
      cli("events", "show", "no-such-receipt"),
    ]);
    expect(text.code).toBe(0);
    const out = text.stdout;
    expect(out).toContain(`webhook   ${receipt}`);
    expect(out).toMatch(/received {2}\S+Z \(\d+s ago\) from socialboards/);
    expect(out).toContain("0  ticket_status_change, ticket 4478963, open → pending");
    expect(out).toMatch(/news-to-slack\s+unmet: /);
    expect(out).toMatch(/pending-to-slack-and-crm\s+matched → support-slack, crm/);
    expect(out).toMatch(/try 1 failed in \d+ ms: .*503.* \(HTTP 503\)/);
    expect(out).toContain("answered 503: busy, come back later");
    expect(out).toMatch(/retrying: next try at \S+Z/);
    expect(out).toMatch(/delivered on try 2 in \d+ ms: HTTP 200/);
    expect(out).toMatch(
      new RegExp(`delivered on try 1 in \\d+ ms: Slack ${slackChannelId} ts \\S+ ${slackWorkspaceUrl}archives/`),
    );

    expect(json.code).toBe(0);
    const story = JSON.parse(json.stdout) as WebhookStory;
    const crm = story.deliveries.find((delivery) => delivery.target === "crm");
    expect(crm?.steps.map((step) => step.kind)).toEqual(["failed", "retrying", "delivered"]);

    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toContain('no webhook "no-such-receipt" in the history');
  });

  it("tells a ticket's timeline across a creation, a reply and two status changes, with its Slack thread", async () => {
    const receipts: string[] = [];
    for (const body of [
      ticketCreation(ticketId),
      replyCreation(ticketId, 1),
      statusChange(ticketId, "open", "pending"),
      statusChange(ticketId, "pending", "closed"),
    ]) {
      receipts.push(await post(body));
    }
    for (const receipt of receipts) await settled(receipt);

    const [text, json] = await Promise.all([
      cli("ticket", String(ticketId)),
      cli("ticket", String(ticketId), "--json"),
    ]);
    expect(text.code).toBe(0);
    const [title, thread, blank, ...timeline] = text.stdout.trim().split("\n");
    expect(title).toMatch(/^ticket 4478963: 4 webhooks, \S+Z to \S+Z$/);
    const rootTs = slack.posts[0]?.ts ?? "";
    const root = rootTs.replace(".", "");
    expect(thread).toBe(`Slack thread: ${slackWorkspaceUrl}archives/${slackChannelId}/p${root}`);
    expect(blank).toBe("");
    const webhookLines = timeline.filter((line) => !line.startsWith("  "));
    expect(webhookLines.map((line) => line.split("  ")[1])).toEqual([
      "ticket_creation",
      "reply_creation",
      "ticket_status_change open → pending",
      "ticket_status_change pending → closed",
    ]);
    expect(webhookLines.map((line) => line.split("  ").at(-1))).toEqual(receipts);
    expect(timeline).toEqual([
      expect.stringContaining("ticket_creation"),
      expect.stringMatching(/^ {2}support-slack \(news-to-slack\): delivered on try 1 in \d+ ms: Slack /),
      expect.stringContaining("reply_creation"),
      expect.stringMatching(
        new RegExp(
          `^ {2}support-slack \\(news-to-slack\\): delivered on try 1 in \\d+ ms: Slack \\S+thread_ts=${rootTs}`,
        ),
      ),
      expect.stringContaining("open → pending"),
      expect.stringMatching(/^ {2}support-slack \(pending-to-slack-and-crm\): delivered/),
      expect.stringMatching(/^ {2}crm \(pending-to-slack-and-crm\): delivered on try 1 in \d+ ms: HTTP 200$/),
      expect.stringContaining("pending → closed"),
      '  no route: news-to-slack: event is "ticket_status_change", wanted one of "ticket_creation", "reply_creation"; pending-to-slack-and-crm: status is "closed", wanted "pending"',
    ]);

    const parsed = JSON.parse(json.stdout) as { ticket: string; webhooks: WebhookStory[]; slackThread: string };
    expect(parsed.ticket).toBe(String(ticketId));
    expect(parsed.webhooks.map((story) => story.webhook.id)).toEqual(receipts);
    expect(parsed.slackThread).toBe(`${slackWorkspaceUrl}archives/${slackChannelId}/p${root}`);
  });

  it("counts a dead letter in a dry run and queues nothing, then replays it to the endpoint", async () => {
    sink.respondWith({ status: 400, body: '{"error":"no such customer"}' });
    const receipt = await post(statusChange(ticketId, "open", "pending"));
    await settled(receipt);
    await sink.waitForRequests(1);

    const dry = await cli("events", "replay", "--outcome", "dead", "--dry-run");
    expect(dry.code).toBe(0);
    const [count, planned, ...rest] = dry.stdout.trim().split("\n");
    expect(count).toBe("would queue 1 delivery:");
    expect(planned).toBe(
      `  ${receipt}.0.crm to crm (dead letter, received ${(await settled(receipt)).webhook.receivedAt})`,
    );
    expect(rest).toEqual([]);
    // The dry run queued nothing: the dead letter is still one, and the endpoint heard nothing more.
    expect((await cli("events", "--outcome", "dead", "--json")).stdout).toContain(receipt);
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(1);

    const replay = await cli("events", "replay", "--outcome", "dead");
    expect(replay.code).toBe(0);
    expect(replay.stdout.trim().split("\n")).toEqual([
      "would queue 1 delivery:",
      `  ${receipt}.0.crm to crm (dead letter, received ${(await settled(receipt)).webhook.receivedAt})`,
      "queued 1 delivery",
    ]);
    const [, again] = await sink.waitForRequests(2);
    expect(again?.json).toMatchObject({ deliveryId: `${receipt}.0.crm` });
    const story = await settled(receipt, (s) => s.deliveries.every((d) => d.state === "delivered"));
    const crm = story.deliveries.find((delivery) => delivery.target === "crm");
    expect(crm?.steps.map((step) => step.kind)).toEqual(["failed", "dead", "replayed", "delivered"]);

    // Nothing is dead any more: a replay finds nothing, and says so with exit 0.
    const none = await cli("events", "replay", "--outcome", "dead", "--json");
    expect(none.code).toBe(0);
    expect(JSON.parse(none.stdout)).toEqual({ plan: { replays: [], cannot: [] }, unknown: [] });
  });

  it("lists a request with a wrong token under refused, without the token anywhere", async () => {
    const wrongToken = "rotated-9f8e7d6c5b4a";
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=${wrongToken}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(statusChange(ticketId, "open", "pending")),
    });
    expect(answer.status).toBeGreaterThanOrEqual(400);
    await waitFor(async () => (await reader.refused(["socialboards"])).length > 0, { what: "a refused request" });

    const [text, json, other] = await Promise.all([
      cli("events", "refused"),
      cli("events", "refused", "--source", "socialboards", "--json"),
      cli("events", "refused", "--source", "sonar"),
    ]);
    expect(text.code).toBe(0);
    const [header, row, ...rest] = text.stdout.trim().split("\n");
    expect(header).toMatch(/^AGE\s+SOURCE\s+STATUS\s+CLIENT\s+REASON$/);
    expect(row).toMatch(new RegExp(`^\\d+s\\s+socialboards\\s+${answer.status}\\s+\\S+\\s+.*urlToken`));
    expect(rest).toEqual([]);
    const [request] = JSON.parse(json.stdout) as { source: string; status: number; method: string }[];
    expect(request).toMatchObject({ source: "socialboards", status: answer.status, method: "POST" });
    for (const result of [text, json]) {
      expect(`${result.stdout}${result.stderr}`).not.toContain(wrongToken);
      expect(`${result.stdout}${result.stderr}`).not.toContain(urlToken);
    }
    expect(other.stdout.trim()).toBe("no refused requests");
  });

  it("forgets a ticket, after which its timeline and its webhooks are gone", async () => {
    const receipt = await post(statusChange(ticketId, "open", "pending"));
    await settled(receipt);
    await waitForQuietQueues(relay.config.redis);

    const forget = await cli("events", "forget", "--ticket", String(ticketId));
    expect(forget.code).toBe(0);
    expect(forget.stdout.trim()).toMatch(
      /^forgot ticket 4478963: removed 1 webhook record, 0 dead letters, \d+ conversation keys?$/,
    );

    const [timeline, listed, show] = await Promise.all([
      cli("ticket", String(ticketId)),
      cli("events", "--ticket", String(ticketId), "--json"),
      cli("events", "show", receipt),
    ]);
    expect(timeline.code).toBe(1);
    expect(timeline.stdout).toBe("");
    expect(timeline.stderr).toContain("no webhook about ticket 4478963 in the history");
    expect(JSON.parse(listed.stdout)).toEqual({ webhooks: [], next: null });
    expect(show.code).toBe(1);
  });

  it("follows a new webhook and its deliveries live, and ends cleanly on Ctrl-C", async () => {
    const tail = startCli(["events", "tail", "--config", configFile]);
    await waitFor(() => tail.stderr().includes("following new webhooks"), { what: "tail to start", timeoutMs: 30_000 });
    const receipt = await post(statusChange(ticketId, "open", "pending"));
    await waitFor(() => tail.stdout().includes(`${receipt}.0.crm  delivered on try 1`), {
      what: "tail to show the delivery",
    });
    tail.interrupt();
    const code = await tail.exited;
    expect(code).toBe(0);
    const lines = tail.stdout().trim().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(
        `^\\S+Z  ${receipt}  socialboards  ticket 4478963  ticket_status_change open → pending  for support-slack, crm$`,
      ),
    );
    expect(lines.filter((line) => line.includes(`${receipt}.0.support-slack  delivered on try 1`))).toHaveLength(1);
  });

  it("says history is off, and exits 1, when history.enabled is false", async () => {
    const off = writeConfig(`${yaml}\nhistory: { enabled: false }\n`);
    const results = await Promise.all([
      runCli(["events", "--config", off]),
      runCli(["ticket", "1", "--config", off]),
      runCli(["events", "replay", "--outcome", "dead", "--config", off]),
    ]);
    for (const result of results) {
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(`history is off (history.enabled: false in ${off})`);
    }
  });

  it("exits 2 on a usage error, and 0 with each command's help", async () => {
    const [outcome, replayNone, help, showHelp] = await Promise.all([
      cli("events", "--outcome", "lost"),
      cli("events", "replay"),
      runCli(["events", "--help"]),
      runCli(["events", "show", "--help"]),
    ]);
    expect(outcome.code).toBe(2);
    expect(outcome.stderr).toContain("--outcome takes one of delivered, failed, dead");
    expect(replayNone.code).toBe(2);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Usage: ticket-relay events [--ticket ID]");
    expect(showHelp.stdout).toContain("Usage: ticket-relay events show RECEIPT_ID");
  });
});

/** A command left running, as `events tail` is until Ctrl-C. */
function startCli(args: string[]) {
  const entry = new URL("../support/cli-entry.ts", import.meta.url).pathname;
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), 45_000);
  const exited = new Promise<number | null>((resolve) =>
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve(code);
    }),
  );
  return { stdout: () => stdout, stderr: () => stderr, interrupt: () => child.kill("SIGINT"), exited };
}
