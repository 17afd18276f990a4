import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { type SlackApiServer, type SlackPost, startSlackApi } from "../support/slack-api.js";
import { aboutTicket, replyCreation, statusChange, ticketCreation } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

// Built at run time, so that no secret scanner takes it for a real token.
const token = ["xox", "b", "order", "pace", "test"].join("-");

/** A reply saying `text`, under an id of its own. */
const replyOn = (ticketId: number, text: string) => replyCreation(ticketId, Math.floor(Math.random() * 1e9), text);

/** A chat's status change at the platform's time `at`: chat events carry their EventTime. */
const chatStatus = (ticketId: number, status: string, at: string) =>
  aboutTicket("conversation_status_changed", ticketId, (item) => {
    item.Status = status;
    item.Conversation.IsClosed = status === "closed";
    item.EventTime = at;
  });
const chatCreated = (ticketId: number, at: string) =>
  aboutTicket("conversation_created", ticketId, (item) => {
    item.EventTime = at;
  });

const config = (redisUrl: string, slackUrl: string) => `
redis: { url: "${redisUrl}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: verify-0d5e8f1c, urlToken: none }
workers: { concurrency: 10 }
targets:
  # Faster than the channel takes: Slack answers 429, and the relay must still get every post in.
  burst-slack: { type: slack, token: ${token}, channel: "#burst", apiUrl: "${slackUrl}", pace: 100ms }
  calm-slack: { type: slack, token: ${token}, channel: "#calm", apiUrl: "${slackUrl}", pace: 100ms }
  order-slack: { type: slack, token: ${token}, channel: "#order", apiUrl: "${slackUrl}", pace: 100ms }
  late-slack: { type: slack, token: ${token}, channel: "#late", apiUrl: "${slackUrl}", pace: 100ms }
  drop-slack: { type: slack, token: ${token}, channel: "#drop", apiUrl: "${slackUrl}", pace: 100ms, dropStale: true }
retry: { attempts: 10, backoff: exponential, delay: 50ms, maxDelay: 1s }
routes:
  - { match: { ticketId: { gte: 5300000, lt: 5300100 } }, to: [burst-slack] }
  - { match: { ticketId: 5300100 }, to: [calm-slack] }
  - { match: { ticketId: { gte: 5300200, lt: 5300300 } }, to: [order-slack] }
  - { match: { ticketId: { gte: 5300300, lt: 5300400 } }, to: [late-slack, drop-slack] }
`;

describe("Slack pace and per-ticket order", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let relay: TestRelay;

  beforeAll(async () => {
    slack = await startSlackApi({ token });
    relay = await startTestRelay(config(redis.url, slack.url));
  });

  afterAll(async () => {
    await relay?.close();
    await slack?.close();
  });

  const post = async (body: unknown) => {
    const response = await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  };
  const inChannel = (channel: string) => slack.posts.filter((posted) => posted.channel === channel);
  const words = (posted: SlackPost | undefined) => JSON.stringify(posted?.blocks ?? posted?.text);
  const ticketOf = (posted: SlackPost) => /ticketId=(\d+)/.exec(JSON.stringify(posted))?.[1];

  it("delivers a burst of 12 to one channel once each and in order through 429s, while another channel is not held back", async () => {
    // Slack takes one post a second in #burst and answers faster ones 429, Retry-After: 1.
    slack.limitChannel("#burst", { everyMs: 1000, retryAfter: 1 });
    const tickets = [5300001, 5300002, 5300003, 5300004];
    const burst = tickets.flatMap((ticketId) => [
      ticketCreation(ticketId),
      replyOn(ticketId, `First reply on ${ticketId}`),
      replyOn(ticketId, `Second reply on ${ticketId}`),
    ]);
    for (const body of burst) await post(body);
    await post(ticketCreation(5300100));

    await waitFor(() => inChannel("#burst").length >= 12, { what: "12 posts in #burst", timeoutMs: 40_000 });
    const posts = inChannel("#burst");
    expect(posts).toHaveLength(12);
    expect(slack.refusedIn("#burst")).toBeGreaterThan(0);
    for (const ticketId of tickets) {
      const [root, ...replies] = posts.filter((posted) => ticketOf(posted) === String(ticketId));
      expect(root?.thread_ts).toBeUndefined();
      expect(replies.map((reply) => reply.thread_ts)).toEqual([root?.ts, root?.ts]);
      expect(words(replies[0])).toContain(`First reply on ${ticketId}`);
      expect(words(replies[1])).toContain(`Second reply on ${ticketId}`);
    }
    // #calm's one post, sent after the whole burst, did not wait for the burst to get through.
    const calm = slack.posts.findIndex((posted) => posted.channel === "#calm");
    expect(calm).toBeGreaterThanOrEqual(0);
    expect(calm).toBeLessThan(slack.posts.indexOf(posts[posts.length - 1] as SlackPost));
  }, 60_000);

  it("posts a ticket's creation, two replies and three status changes in order, the root at the final status", async () => {
    const ticketId = 5300201;
    // Sent one after another as the platform does, without waiting for their delivery: ten
    // deliveries run at once, and the six of this ticket must still take their turns.
    for (const body of [
      ticketCreation(ticketId),
      replyOn(ticketId, "Reply number 1"),
      replyOn(ticketId, "Reply number 2"),
      statusChange(ticketId, "open", "pending"),
      statusChange(ticketId, "pending", "solved"),
      statusChange(ticketId, "solved", "closed"),
    ]) {
      await post(body);
    }
    await waitFor(() => inChannel("#order").length >= 6, { what: "six posts in #order", timeoutMs: 20_000 });
    const [root, ...replies] = inChannel("#order");
    expect(root?.thread_ts).toBeUndefined();
    expect(root?.text).toContain("Cat is ill");
    expect(replies.map((reply) => reply.thread_ts)).toEqual(Array(5).fill(root?.ts));
    expect(words(replies[0])).toContain("Reply number 1");
    expect(words(replies[1])).toContain("Reply number 2");
    expect(replies.slice(2).map((reply) => reply.text)).toEqual([
      expect.stringContaining("open → pending"),
      expect.stringContaining("pending → solved"),
      expect.stringContaining("solved → closed"),
    ]);
    await waitFor(() => slack.updates.filter((update) => update.ts === root?.ts).length >= 5, { what: "5 updates" });
    expect(slack.message(root?.ts ?? "")?.text).toBe(`Ticket #${ticketId}: Cat is ill (closed)`);
  });

  it("posts a late event in the thread marked as late without rolling the root back, and drops it with dropStale", async () => {
    const ticketId = 5300301;
    await post(chatCreated(ticketId, "2026-03-02T10:00:00.000Z"));
    await post(chatStatus(ticketId, "closed", "2026-03-02T10:05:00.000Z"));
    await waitFor(() => inChannel("#late").length >= 2 && inChannel("#drop").length >= 2, {
      what: "the chat's first two events in #late and #drop",
    });
    // Reaches the relay last, but happened between the two.
    await post(chatStatus(ticketId, "open", "2026-03-02T10:02:00.000Z"));

    const [root, closed, late] = await waitFor(() => inChannel("#late").length >= 3 && inChannel("#late"), {
      what: "the late event in #late",
    });
    expect(closed?.thread_ts).toBe(root?.ts);
    expect(late?.thread_ts).toBe(root?.ts);
    expect(late?.text).toMatch(/^Late: /);
    expect(words(late)).toContain("*Late:*");
    expect(late?.reply_broadcast).not.toBe(true);
    await waitFor(() => slack.updates.filter((update) => update.ts === root?.ts).length >= 2, { what: "2 updates" });
    expect(JSON.stringify(slack.message(root?.ts ?? ""))).toContain("*Status*\\nclosed");

    await waitFor(() => relay.logs.some((line) => line.includes("late event dropped") && line.includes("drop-slack")), {
      what: "drop-slack dropping the late event",
    });
    expect(inChannel("#drop")).toHaveLength(2);
  });
});
