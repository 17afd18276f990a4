import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { waitForQuietQueues } from "./support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SlackApiServer, type SlackPost, startSlackApi } from "./support/slack-api.js";
import { type SmtpServer, startSmtpServer } from "./support/smtp.js";
import { statusChanges, ticketRange } from "./support/status-changes.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const token = "fake-slack-token-for-tests";

interface DigestBody {
  title: string;
  digest: { count: number; listed: number; group: Record<string, string>; events: { ticketId: string }[] };
}

/** Digests of bursts (docs/configuration.md, "Digests"), through a real Redis, Slack stand-in and HTTP sink. */
describe("digests", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let sink: HttpSink;
  let smtp: SmtpServer;
  const relays: TestRelay[] = [];

  beforeAll(async () => {
    [slack, sink, smtp] = await Promise.all([
      startSlackApi({ token, channels: ["#bulk", "#threads"] }),
      startHttpSink(),
      startSmtpServer(),
    ]);
  });

  afterEach(async () => {
    await Promise.all(relays.splice(0).map((relay) => relay.close()));
    slack.reset();
    sink.reset();
    smtp.reset();
  });

  afterAll(async () => {
    await slack?.close();
    await sink?.close();
    await smtp?.close();
  });

  const config = (prefix: string, to: string, window = "1s") => `
redis: { url: "${redis.url}", prefix: ${prefix} }
workers: { concurrency: 50 }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  bulk-slack:
    type: slack
    token: ${token}
    channel: "#bulk"
    apiUrl: "${slack.url}"
    thread: false
    digest: { window: ${window}, max: 200, groupBy: [type, status] }
  crm:
    type: http
    url: "${sink.url}/hooks"
    digest: { window: ${window}, max: 20, groupBy: [status] }
  mail:
    type: email
    smtp: "${smtp.url}"
    from: "Relay <relay@example.com>"
    to: support@example.com
    digest: { window: ${window}, max: 3, groupBy: [status] }
retry: { attempts: 3, backoff: fixed, delay: 100ms }
routes:
  - to: ${to}
`;

  const post = async (url: string, body: string) => {
    const response = await fetch(`${url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);
  };
  /** Waits until the relay has nothing left to do, so that a second message, if one were coming, has arrived. */
  const settle = (relay: TestRelay) => waitForQuietQueues(relay.config.redis);

  it("sends 400 status changes in a burst as one message per group, listing them with their links", async () => {
    const prefix = uniquePrefix();
    // Accepted first, delivered once a worker starts: the whole burst reaches the targets at once.
    const ingest = await startTestRelay(config(prefix, "[bulk-slack]", "2s"), { role: "ingest" });
    relays.push(ingest);
    const closed = ticketRange(7_000_001, 300);
    const solved = ticketRange(7_100_001, 100);
    for (let start = 0; start < closed.length; start += 100) {
      await post(ingest.url, statusChanges(closed.slice(start, start + 100), "open", "closed"));
    }
    await post(ingest.url, statusChanges(solved, "pending", "solved"));
    relays.push(await startTestRelay(config(prefix, "[bulk-slack]", "2s"), { role: "worker" }));

    const posts = await slack.waitForPosts(2, 15_000);
    await settle(ingest);
    expect(slack.posts).toHaveLength(2);

    const byText = (text: string) => posts.find((message) => message.text === text) as SlackPost;
    const closedPost = byText("300 tickets closed in the last 2 seconds");
    const solvedPost = byText("100 tickets solved in the last 2 seconds");
    expect(closedPost.thread_ts).toBeUndefined();
    const closedText = JSON.stringify(closedPost.blocks);
    // max: 200 listed, each its ticket's link; the other 100 counted.
    expect(closedText.match(/ticketId=70\d{5}\|/g)).toHaveLength(200);
    expect(closedText).toContain(
      "<https://inbox.socialboards.com/yourCompany/tickets?ticketId=7000001|Ticket #7000001",
    );
    expect(closedText).toContain("… and 100 more");
    expect(JSON.stringify(solvedPost.blocks).match(/ticketId=71\d{5}\|/g)).toHaveLength(100);
    expect(JSON.stringify(solvedPost.blocks)).not.toContain("more");
  });

  it("posts an HTTP target one JSON body per group and emails one list per group, the first max events listed, all counted", async () => {
    const relay = await startTestRelay(config(uniquePrefix(), "[crm, mail]"));
    relays.push(relay);
    const closed = ticketRange(7_050_001, 25);
    await post(relay.url, statusChanges(closed, "open", "closed"));
    await post(relay.url, statusChanges(ticketRange(7_150_001, 5), "pending", "solved"));

    const requests = await sink.waitForRequests(2, 15_000);
    await settle(relay);
    expect(sink.requests).toHaveLength(2);
    const bodies = requests.map((request) => request.json as DigestBody);
    const closedBody = bodies.find((body) => body.digest.group.status === "closed") as DigestBody;
    expect(closedBody.title).toBe("25 tickets closed in the last 1 second");
    expect(closedBody.digest).toMatchObject({ count: 25, listed: 20 });
    expect(closedBody.digest.events.map((event) => event.ticketId)).toEqual(closed.slice(0, 20).map(String));
    expect(bodies.find((body) => body.digest.group.status === "solved")?.digest).toMatchObject({ count: 5, listed: 5 });

    const emails = await smtp.waitForMessages(2);
    const closedEmail = emails.find((email) => email.subject === "25 tickets closed in the last 1 second");
    expect(closedEmail?.text).toContain(
      '- Ticket #7050001 "Bulk ticket 7050001": open → closed\n  https://inbox.socialboards.com/yourCompany/tickets?ticketId=7050001',
    );
    expect(closedEmail?.text).toContain("… and 22 more");
    expect(closedEmail?.html).toContain(
      '<a href="https://inbox.socialboards.com/yourCompany/tickets?ticketId=7050003">',
    );
    expect(emails.map((email) => email.subject)).toContain("5 tickets solved in the last 1 second");
  });

  it("sends an event alone in its window as its own message, after the window", async () => {
    const relay = await startTestRelay(config(uniquePrefix(), "[bulk-slack, crm]"));
    relays.push(relay);
    const postedAt = Date.now();
    await post(relay.url, statusChanges([7_200_001], "open", "pending"));

    const [message] = await slack.waitForPosts(1);
    const [request] = await sink.waitForRequests(1);
    expect(Date.now() - postedAt).toBeGreaterThanOrEqual(1000);
    expect(message?.text).toBe('Ticket #7200001 "Bulk ticket 7200001": open → pending');
    const body = request?.json as { event: { ticketId: string }; digest?: unknown };
    expect(body.event.ticketId).toBe("7200001");
    expect(body.digest).toBeUndefined();
    await settle(relay);
    expect(slack.posts).toHaveLength(1);
    expect(sink.requests).toHaveLength(1);
  });
});

describe("digests on a Slack target that threads", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let relay: TestRelay;

  beforeAll(async () => {
    slack = await startSlackApi({ token, channels: ["#threads"] });
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support:
    type: slack
    token: ${token}
    channel: "#threads"
    apiUrl: "${slack.url}"
    broadcast: [closed]
    digest: { window: 1s }
retry: { attempts: 3, backoff: fixed, delay: 100ms }
routes:
  - to: [support]
`);
  });

  afterAll(async () => {
    await relay?.close();
    await slack?.close();
  });

  const post = async (body: string) => {
    const response = await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);
  };

  it("posts the digest in the channel and each event's reply in the thread its ticket has, starting none", async () => {
    // Alone in its window: the ticket's first message, the root of its thread.
    await post(statusChanges([7_300_001], "new", "open"));
    const [root] = await slack.waitForPosts(1);
    expect(root?.thread_ts).toBeUndefined();
    expect(root?.text).toContain("#7300001");

    await post(statusChanges([7_300_001, 7_300_002, 7_300_003], "open", "closed"));
    await waitFor(() => slack.posts.length >= 3, { what: "the digest and the thread reply" });
    await waitForQuietQueues(relay.config.redis);

    const [, ...later] = slack.posts;
    expect(later).toHaveLength(2);
    const digest = later.find((message) => message.thread_ts === undefined);
    const reply = later.find((message) => message.thread_ts === root?.ts);
    expect(digest?.text).toBe("3 tickets closed in the last 1 second");
    for (const ticketId of [7_300_001, 7_300_002, 7_300_003]) {
      expect(JSON.stringify(digest?.blocks)).toContain(`ticketId=${ticketId}|`);
    }
    // The channel shows the digest, so the reply is not broadcast there too.
    expect(reply?.reply_broadcast).not.toBe(true);
    expect(reply?.text).toContain("open → closed");
    // The root shows the ticket as it stands now.
    expect(JSON.stringify(slack.message(root?.ts ?? ""))).toContain("*Status*\\nclosed");
  });
});
