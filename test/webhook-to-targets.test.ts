import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { deliveryQueueName } from "../src/queue/jobs.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { waitForQuietQueues } from "./support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SlackApiServer, startSlackApi } from "./support/slack-api.js";
import { type SmtpServer, startSmtpServer } from "./support/smtp.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChangeText = readFileSync(
  new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);
const statusChange = JSON.parse(statusChangeText);

const secrets = {
  VERIFY_TOKEN: "verify-0d5e8f1c",
  URL_TOKEN: "url-7b1f2a9e",
  SLACK_TOKEN: "fake-slack-token-for-tests",
};

/**
 * The whole path, through real parts: a webhook posted over HTTP, a real Redis, BullMQ workers,
 * and what actually arrives at a Slack Web API server, an SMTP server and an HTTP endpoint.
 */
describe("a Socialboards webhook, end to end", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let smtp: SmtpServer;
  let sink: HttpSink;
  let relay: TestRelay;
  let deliveries: Queue;
  const logs: string[] = [];

  beforeAll(async () => {
    [slack, smtp, sink] = await Promise.all([
      startSlackApi({ token: secrets.SLACK_TOKEN, channels: ["#support"] }),
      startSmtpServer(),
      startHttpSink(),
    ]);
  });

  // A fresh relay and key prefix per test: no test sees another's jobs or retries.
  beforeEach(async () => {
    const prefix = uniquePrefix();
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: "\${VERIFY_TOKEN}", urlToken: "\${URL_TOKEN}" }
targets:
  support-slack: { type: slack, token: "\${SLACK_TOKEN}", channel: "#support", apiUrl: "${slack.url}" }
  oncall-email: { type: email, smtp: "${smtp.url}", from: "Relay <relay@example.com>", to: [oncall@example.com] }
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
retry: { attempts: 4, backoff: exponential, delay: 50ms, maxDelay: 300ms }
routes:
  - name: pending-to-support
    match: { source: socialboards, event: ticket_status_change, previousStatus: open, status: [pending, closed] }
    to: [support-slack, oncall-email]
    continue: true
  - name: everything-to-crm
    to: [crm]
`,
      { env: secrets },
    );
    deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
  });

  afterEach(async () => {
    logs.push(...relay.logs);
    await deliveries.close();
    await relay.close();
    slack.reset();
    smtp.reset();
    sink.reset();
  });

  afterAll(async () => {
    await Promise.all([slack?.close(), smtp?.close(), sink?.close()]);
  });

  const postWebhook = (payload: unknown) =>
    fetch(`${relay.url}/webhooks/socialboards?token=${secrets.URL_TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: typeof payload === "string" ? payload : JSON.stringify(payload),
    });

  /** Lets workers run whatever they would still do, so "exactly N" means exactly N. */
  const settle = () => waitForQuietQueues(relay.config.redis);

  it("posts a readable Slack message, sends an email and calls the HTTP endpoint for open → pending", async () => {
    const response = await postWebhook(statusChangeText);
    expect(await response.json()).toEqual({ accepted: 1, receipt: expect.any(String) });

    const [post] = await slack.waitForPosts(1);
    expect(post?.channel).toBe("#support");
    expect(post?.text).toBe('Ticket #4478963 "Cat is ill": open → pending');
    const blocks = JSON.stringify(post?.blocks);
    for (const detail of [
      "open → pending",
      "Robert Baker",
      "Other cases",
      "I want to take my cat to a vet",
      "ticketId=4478963",
    ]) {
      expect(blocks).toContain(detail);
    }

    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.subject).toBe("Ticket #4478963");
    expect(mail?.text).toContain('Ticket #4478963 "Cat is ill": open → pending');
    expect(mail?.text).toContain("Customer: Robert Baker");
    expect(mail?.text).toContain("https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963");
    expect(mail?.html).toContain("<td>Other cases</td>");
    expect(JSON.stringify(mail?.to)).toContain("oncall@example.com");

    const [request] = await sink.waitForRequests(1);
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/hooks");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.json).toMatchObject({
      route: "everything-to-crm",
      title: 'Ticket #4478963 "Cat is ill": open → pending',
      event: {
        type: "ticket_status_change",
        ticketId: "4478963",
        previousStatus: "open",
        status: "pending",
        community: "yourCompany",
      },
      payload: statusChange.Events[0],
    });
  });

  it("retries an HTTP target that answers 503 twice, delivers once, and never re-sends to the healthy ones", async () => {
    sink.respondWith({ status: 503 }, { status: 503 });
    await postWebhook(statusChange);

    await sink.waitForRequests(3);
    await settle();
    expect(sink.requests.map((r) => r.method)).toHaveLength(3);
    expect(slack.posts).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    // Every try of one delivery carries the same delivery id, so a receiver can spot repeats.
    const ids = new Set(sink.requests.map((r) => (r.json as { deliveryId: string }).deliveryId));
    expect(ids.size).toBe(1);
    expect(relay.logs.join("")).toMatch(/"attempt":2,"attempts":4.*delivery failed; will retry/);
  });

  it("gives up after the last attempt and keeps the delivery in the failed set", async () => {
    sink.respondWith({ status: 500 }, { status: 500 }, { status: 500 }, { status: 500 });
    await postWebhook(statusChange);

    const [failed] = await waitFor(async () => {
      const jobs = await deliveries.getFailed();
      return jobs.length > 0 ? jobs : undefined;
    });
    expect(sink.requests).toHaveLength(4);
    expect(failed?.data.targetId).toBe("crm");
    expect(failed?.attemptsMade).toBe(4);
    expect(failed?.failedReason).toBe(
      `HTTP crm (POST ${sink.url}/hooks) answered 500: {"status":500} (gave up after 4 tries)`,
    );
    expect(relay.logs.join("")).toContain("delivery is a dead letter");
    // Every try is kept with the job, for `ticket-relay dlq show`.
    const { logs } = await deliveries.getJobLogs(failed?.id ?? "");
    expect(logs).toHaveLength(4);
    expect(logs[0]).toMatch(/try 1: HTTP crm .* answered 500/);
  });

  it("does not retry what cannot succeed: a 400 from an HTTP target fails at once", async () => {
    sink.respondWith({ status: 400 });
    await postWebhook(statusChange);

    await waitFor(async () => ((await deliveries.getFailedCount()) > 0 ? true : undefined));
    await settle();
    expect(sink.requests).toHaveLength(1);
    const [failed] = await deliveries.getFailed();
    expect(failed?.attemptsMade).toBe(1);
  });

  it("waits out a Slack rate limit and then posts once", async () => {
    slack.failNext("ratelimited");
    await postWebhook(statusChange);

    await slack.waitForPosts(1);
    await settle();
    expect(slack.calls).toBe(2);
    expect(slack.posts).toHaveLength(1);
  });

  it("fails a Slack delivery to an unknown channel without retrying", async () => {
    slack.failNext("channel_not_found");
    await postWebhook(statusChange);

    await waitFor(async () => ((await deliveries.getFailedCount()) > 0 ? true : undefined));
    await settle();
    expect(slack.calls).toBe(1);
    const [failed] = await deliveries.getFailed();
    expect(failed?.failedReason).toBe("Slack: channel_not_found");
  });

  it("retries an email the SMTP server refuses for now (451), and gives up on 550", async () => {
    smtp.failNext("temporary");
    await postWebhook(statusChange);
    await smtp.waitForMessages(1);

    smtp.failNext("permanent");
    // Another title: the same body again would be taken for the platform's retry of the first.
    const [first] = statusChange.Events;
    await postWebhook({ ...statusChange, Events: [{ ...first, Ticket: { ...first.Ticket, Title: "Dog is ill" } }] });
    await waitFor(async () => ((await deliveries.getFailedCount()) > 0 ? true : undefined));
    await settle();
    expect(smtp.messages).toHaveLength(1);
    const [failed] = await deliveries.getFailed();
    expect(failed?.data.targetId).toBe("oncall-email");
    expect(failed?.failedReason).toMatch(/^SMTP 55\d/);
  });

  it("takes a JSON body sent as text/plain, since Socialboards documents no Content-Type", async () => {
    const [first] = statusChange.Events;
    const body = JSON.stringify({
      ...statusChange,
      Events: [{ ...first, Ticket: { ...first.Ticket, Title: "Plain" } }],
    });
    const response = await fetch(`${relay.url}/webhooks/socialboards?token=${secrets.URL_TOKEN}`, {
      method: "POST",
      headers: { "content-type": "text/plain" },
      body,
    });
    expect(response.status).toBe(200);
    const [request] = await sink.waitForRequests(1);
    expect(request?.json).toMatchObject({ title: expect.stringContaining("Plain") });
  });

  it("routes each of several Events on its own", async () => {
    const [first] = statusChange.Events;
    const reopened = {
      ...first,
      TicketId: 99,
      PreviousTicketStatus: "pending",
      Ticket: { ...first.Ticket, Id: 99, Status: "open" },
    };
    const response = await postWebhook({ ...statusChange, Events: [first, reopened] });
    expect(await response.json()).toEqual({ accepted: 2, receipt: expect.any(String) });

    await sink.waitForRequests(2);
    await settle();
    // Only open → pending goes to Slack and email; both go to the catch-all.
    expect(slack.posts).toHaveLength(1);
    expect(smtp.messages).toHaveLength(1);
    expect(sink.requests.map((r) => (r.json as { event: { ticketId: string } }).event.ticketId).sort()).toEqual([
      "4478963",
      "99",
    ]);
  });

  it("never writes tokens or customer emails to its logs", () => {
    const all = logs.join("");
    expect(all.length).toBeGreaterThan(0);
    for (const secret of [...Object.values(secrets), "robert78baker@gmail.com", "I want to take my cat"]) {
      expect(all).not.toContain(secret);
    }
  });
});
