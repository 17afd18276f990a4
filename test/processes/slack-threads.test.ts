import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.js";
import { type SlackApiServer, type SlackPost, startSlackApi } from "../support/slack-api.js";
import { replyCreation, statusChange, ticketCreation } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const token = "fake-slack-token-for-tests";
const urlToken = "url-7b1f2a9e";
const config = (redisUrl: string, prefix: string, slackUrl: string) => `
redis: { url: "${redisUrl}", prefix: ${prefix} }
sources:
  socialboards: { type: socialboards, verifyToken: verify-0d5e8f1c, urlToken: ${urlToken} }
targets:
  # A short pace: these tests are about threads; test/slack-order-pace.test.ts is about the pace.
  support-slack: { type: slack, token: ${token}, channel: "#support", apiUrl: "${slackUrl}", broadcast: [closed], pace: 100ms }
  loose-slack: { type: slack, token: ${token}, channel: "#loose", apiUrl: "${slackUrl}", thread: false, pace: 100ms }
retry: { attempts: 10, backoff: exponential, delay: 50ms, maxDelay: 1s }
routes:
  - name: everything
    to: [support-slack, loose-slack]
`;

describe("one Slack thread per ticket", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let relay: TestRelay;

  beforeAll(async () => {
    slack = await startSlackApi({ token, channels: ["#support", "#loose"] });
    relay = await startTestRelay(config(redis.url, uniquePrefix(), slack.url));
  });

  afterAll(async () => {
    await relay?.close();
    await slack?.close();
  });

  const postTo = async (url: string, body: unknown) => {
    const response = await fetch(`${url}/webhooks/socialboards?token=${urlToken}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    expect(response.status).toBe(200);
  };
  const inChannel = (channel: string, ticketId: number) =>
    slack.posts.filter((post) => post.channel === channel && JSON.stringify(post).includes(`ticketId=${ticketId}`));
  /** Posts one webhook and waits until both targets have posted for it. */
  const deliver = async (body: unknown, ticketId: number) => {
    const before = { support: inChannel("#support", ticketId).length, loose: inChannel("#loose", ticketId).length };
    await postTo(relay.url, body);
    await waitFor(
      () =>
        inChannel("#support", ticketId).length > before.support && inChannel("#loose", ticketId).length > before.loose,
      { what: `Slack posts about ticket ${ticketId}` },
    );
  };
  const rootText = (root: SlackPost | undefined) => JSON.stringify(slack.message(root?.ts ?? ""));

  it("makes a ticket's creation the root and its five later events replies in its thread, the root kept current", async () => {
    const ticketId = 5100001;
    for (const body of [
      ticketCreation(ticketId),
      replyCreation(ticketId, 1),
      replyCreation(ticketId, 2),
      statusChange(ticketId, "open", "pending"),
      statusChange(ticketId, "pending", "solved"),
      statusChange(ticketId, "solved", "closed"),
    ]) {
      await deliver(body, ticketId);
    }

    const posts = inChannel("#support", ticketId);
    expect(posts).toHaveLength(6);
    const [root, ...replies] = posts;
    expect(root?.thread_ts).toBeUndefined();
    expect(root?.text).toContain("Cat is ill");
    expect(replies.map((reply) => reply.thread_ts)).toEqual(Array(5).fill(root?.ts));
    expect(JSON.stringify(replies[0]?.blocks)).toContain("Reply number 1");

    // Every later event updated the root; it now shows the ticket as it stands.
    expect(slack.updates.filter((update) => update.ts === root?.ts)).toHaveLength(5);
    const current = rootText(root);
    for (const shown of ["Cat is ill", "*Status*\\nclosed", "*Category*\\nOther cases", "*Replies*\\n5"]) {
      expect(current).toContain(shown);
    }
    expect(slack.message(root?.ts ?? "")?.text).toBe("Ticket #5100001: Cat is ill (closed)");

    // broadcast: [closed]: only the closing reply is also shown in the channel.
    expect(replies.map((reply) => reply.reply_broadcast === true)).toEqual([false, false, false, false, true]);
  });

  it("posts loose messages, one per event, for a target with thread: false", async () => {
    const ticketId = 5100002;
    await deliver(ticketCreation(ticketId), ticketId);
    await deliver(replyCreation(ticketId, 3), ticketId);
    await deliver(statusChange(ticketId, "open", "closed"), ticketId);

    const loose = inChannel("#loose", ticketId);
    expect(loose).toHaveLength(3);
    expect(loose.map((post) => post.thread_ts ?? "none")).toEqual(["none", "none", "none"]);
    expect(loose.map((post) => post.reply_broadcast ?? "none")).toEqual(["none", "none", "none"]);
    expect(slack.updates.filter((update) => loose.some((post) => post.ts === update.ts))).toHaveLength(0);
  });

  it("starts a new root when the old one was deleted in Slack", async () => {
    const ticketId = 5100003;
    await deliver(ticketCreation(ticketId), ticketId);
    const [first] = inChannel("#support", ticketId);
    slack.deleteMessage(first?.ts ?? "");

    await deliver(replyCreation(ticketId, 4), ticketId);
    await deliver(replyCreation(ticketId, 5), ticketId);

    const [, second, third] = inChannel("#support", ticketId);
    expect(second?.thread_ts).toBeUndefined();
    expect(JSON.stringify(second?.blocks)).toContain("Reply number 4");
    expect(third?.thread_ts).toBe(second?.ts);
    expect(rootText(second)).toContain("*Replies*\\n1");
  });
});

describe("one Slack thread per ticket, with two worker processes", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let ingest: TestRelay | undefined;
  const workers: RelayProcess[] = [];

  beforeAll(async () => {
    slack = await startSlackApi({ token, channels: ["#support", "#loose"] });
  });

  afterAll(async () => {
    await ingest?.close();
    for (const worker of workers) {
      worker.kill("SIGTERM");
      await worker.exited;
    }
    await slack?.close();
  });

  it("makes exactly one root when ten events for a new ticket arrive at once", async () => {
    const yaml = config(redis.url, uniquePrefix(), slack.url);
    workers.push(...(await Promise.all([startRelayProcess(yaml, "worker"), startRelayProcess(yaml, "worker")])));
    ingest = await startTestRelay(yaml, { role: "ingest" });
    const ticketId = 5100004;
    const url = ingest.url;

    await Promise.all(
      [ticketCreation(ticketId), ...[6, 7, 8, 9, 10, 11, 12, 13, 14].map((id) => replyCreation(ticketId, id))].map(
        async (body) => {
          const response = await fetch(`${url}/webhooks/socialboards?token=${urlToken}`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(body),
          });
          expect(response.status).toBe(200);
        },
      ),
    );

    const threaded = () => slack.posts.filter((post) => post.channel === "#support");
    await waitFor(() => threaded().length >= 10, { what: "ten posts in #support", timeoutMs: 20_000 });
    // Whatever the workers would still do, let them: "exactly one" must stay one.
    await waitForQuietQueues(ingest.config.redis);

    const posts = threaded();
    expect(posts).toHaveLength(10);
    const roots = posts.filter((post) => post.thread_ts === undefined);
    expect(roots).toHaveLength(1);
    expect(posts.filter((post) => post.thread_ts === roots[0]?.ts)).toHaveLength(9);
    // The ten jobs race for the claim within each worker (ten at a time) and across the two;
    // which worker wins how many depends on the machine's load, so that is not asserted.
  });
});
