import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { type RedisServer, startRedisServer } from "./support/redis.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SlackApiServer, startSlackApi } from "./support/slack-api.js";
import { replyCreation } from "./support/ticket-events.js";
import { waitFor } from "./support/wait.js";
import { storedWebhooks } from "./support/webhook-stream.js";

/** Posts replies 1 … count of one ticket, one after another, each answered 200. */
async function postReplies(url: string, ticketId: number, count: number): Promise<void> {
  for (let reply = 1; reply <= count; reply += 1) {
    const answer = await fetch(`${url}/webhooks/sb`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(replyCreation(ticketId, reply)),
    });
    expect(answer.status).toBe(200);
  }
}

/**
 * A long chat, a bulk edit or an hour of a target's outage leaves a backlog of one ticket.
 * Its deliveries go one after another (per-ticket order), and the ones behind must cost the
 * workers nothing while they wait: parked, and started when their turn comes, not picked up
 * and put back again and again (which made 10,000 of one ticket drain at 1 a second).
 */
describe("one ticket's backlog", () => {
  let redis: RedisServer;
  let sink: HttpSink;
  let slack: SlackApiServer;
  const relays: TestRelay[] = [];
  const backlog = 600;

  beforeAll(async () => {
    [redis, sink, slack] = await Promise.all([
      startRedisServer(),
      startHttpSink(),
      startSlackApi({ token: "xoxb-test", channels: ["#support"] }),
    ]);
  });

  afterAll(async () => {
    await Promise.all(relays.map((relay) => relay.close()));
    await Promise.all([sink?.close(), slack?.close(), redis?.stop()]);
  });

  it("is delivered in order once the workers start, each held delivery picked up about once", async () => {
    const prefix = uniquePrefix();
    const yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  sb: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - { name: replies, to: [crm] }
`;
    const ingest = await startTestRelay(yaml, { role: "ingest" });
    relays.push(ingest);
    await postReplies(ingest.url, 4478001, backlog);
    const stream = storedWebhooks(redis.url, prefix);
    expect(await stream.count()).toBe(backlog);
    await stream.close();

    const worker = await startTestRelay(yaml, { role: "worker" });
    relays.push(worker);
    const arrived = await sink.waitForRequests(backlog, 60_000);
    const replyIds = arrived.map((request) => JSON.stringify(request.json).match(/Reply number (\d+)/)?.[1]);
    expect(replyIds).toEqual(Array.from({ length: backlog }, (_, index) => String(index + 1)));

    // Held ones were parked when routed, and woken one by one: a worker put back a delivery that
    // was not yet its turn only a few times (the wake raced its parking), not once or more each.
    await waitFor(() => worker.logs.some((line) => line.includes('"delivered"')));
    const putBack = worker.logs.filter((line) => line.includes("waits for an earlier event")).length;
    expect(putBack).toBeLessThan(backlog / 20);
  }, 90_000);

  it("reaches an HTTP target at once while the same ticket's Slack posts wait for the channel's pace", async () => {
    sink.reset();
    const prefix = uniquePrefix();
    const yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  sb: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
  support-slack: { type: slack, token: xoxb-test, channel: "#support", apiUrl: "${slack.url}", pace: 1s }
routes:
  - { name: replies, to: [support-slack, crm] }
`;
    const ingest = await startTestRelay(yaml, { role: "ingest" });
    relays.push(ingest);
    const replies = 300;
    await postReplies(ingest.url, 4478002, replies);
    relays.push(await startTestRelay(yaml, { role: "worker" }));
    // The Slack backlog drains at one post a second; the HTTP target does not wait for it.
    const arrived = await sink.waitForRequests(replies, 15_000);
    const replyIds = arrived.map((request) => JSON.stringify(request.json).match(/Reply number (\d+)/)?.[1]);
    expect(replyIds).toEqual(Array.from({ length: replies }, (_, index) => String(index + 1)));
    expect(slack.posts.length).toBeLessThan(replies / 2);
  }, 60_000);
});
