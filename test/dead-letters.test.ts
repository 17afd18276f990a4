import { readFileSync } from "node:fs";
import type { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DeadLetters } from "../src/queue/dead-letters.js";
import type { DeliveryJob } from "../src/queue/jobs.js";
import { openDeliveryQueue, relayKeys } from "../src/queue/queues.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SlackApiServer, startSlackApi } from "./support/slack-api.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");
const day = 24 * 3600_000;

/** Deliveries that gave up, made by a real relay against real endpoints, read and replayed from Redis. */
describe("dead letters", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let slack: SlackApiServer;
  let relay: TestRelay;
  let queue: Queue<DeliveryJob>;
  let deadLetters: DeadLetters;
  let prefix: string;

  beforeAll(async () => {
    [sink, slack] = await Promise.all([startHttpSink(), startSlackApi({ token: "xoxb-test", channels: ["#support"] })]);
  });

  // Titles pick the target: "crm …" to the HTTP endpoint, "slack …" to Slack, "slow …" to an
  // HTTP target that waits an hour between tries.
  beforeEach(async () => {
    prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: none } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", retry: { attempts: 2, backoff: fixed, delay: 50ms } }
  slow: { type: http, url: "${sink.url}/slow", retry: { attempts: 2, backoff: fixed, delay: 1h } }
  support-slack: { type: slack, token: xoxb-test, channel: "#support", apiUrl: "${slack.url}" }
routes:
  - { name: to-crm, match: { payload.Ticket.Title: { glob: "crm *" } }, to: [crm] }
  - { name: to-slow, match: { payload.Ticket.Title: { glob: "slow *" } }, to: [slow] }
  - { name: to-slack, match: { payload.Ticket.Title: { glob: "slack *" } }, to: [support-slack] }
`);
    queue = openDeliveryQueue({ url: redis.url, prefix });
    deadLetters = new DeadLetters(queue, relayKeys(prefix), relay.config.targets);
  });

  afterEach(async () => {
    await relay.close();
    await queue.close();
    sink.reset();
    slack.reset();
  });

  afterAll(async () => {
    await Promise.all([sink?.close(), slack?.close()]);
  });

  const post = (title: string) =>
    fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange.replace("Cat is ill", title),
    });
  const deadLettersCount = (count: number) =>
    waitFor(async () => ((await queue.getFailedCount()) === count ? true : undefined), {
      what: `${count} dead letters`,
    });
  /** Moves a dead letter's failure back in time, as if it had waited that long. */
  const age = async (id: string, ms: number) => {
    const failedAt = Date.now() - ms;
    await redis.client.hset(relayKeys(prefix).deliveryJob(id), "finishedOn", failedAt);
    await redis.client.zadd(`${prefix}:delivery:failed`, failedAt, id);
  };

  it("lists dead letters newest first, with their ticket, tries, and first and last error", async () => {
    sink.respondWith({ status: 500 }, { status: 500 });
    await post("crm one");
    await deadLettersCount(1);
    slack.failNext("channel_not_found");
    await post("slack two");
    await deadLettersCount(2);

    const [newest, oldest] = await deadLetters.list();
    expect(newest).toMatchObject({ target: "support-slack", route: "to-slack", tries: 1, ticketId: "4478963" });
    expect(newest?.lastError.reason).toBe("Slack: channel_not_found");
    expect(oldest).toMatchObject({ target: "crm", eventType: "ticket_status_change", tries: 2 });
    expect(oldest?.id).toMatch(/\.crm$/);
    expect(oldest?.firstError.reason).toMatch(/^HTTP crm .* answered 500/);
    expect(oldest?.lastError.reason).toMatch(/answered 500.*\(gave up after 2 tries\)$/);
    expect(Date.parse(oldest?.firstError.at ?? "")).toBeLessThan(Date.parse(oldest?.lastError.at ?? ""));

    expect((await deadLetters.list({ target: "crm" })).map((letter) => letter.target)).toEqual(["crm"]);
    await age(oldest?.id ?? "", 2 * day);
    expect((await deadLetters.list({ since: day })).map((letter) => letter.target)).toEqual(["support-slack"]);
  });

  it("shows the message each target would be sent", async () => {
    sink.respondWith({ status: 404 });
    slack.failNext("channel_not_found");
    await post("crm three");
    await post("slack three");
    await deadLettersCount(2);
    const [slackLetter, crmLetter] = await Promise.all(
      ["support-slack", "crm"].map(async (target) => (await deadLetters.list({ target }))[0]),
    );

    const slackShown = await deadLetters.show(slackLetter?.id ?? "");
    expect(slackShown?.message).toMatchObject({ type: "slack", text: 'Ticket #4478963 "slack three": open → pending' });
    expect(JSON.stringify(slackShown?.message)).toContain("Robert Baker");
    const crmShown = await deadLetters.show(crmLetter?.id ?? "");
    expect(crmShown?.message).toMatchObject({
      type: "http",
      body: { deliveryId: crmLetter?.id, route: "to-crm", event: { ticketId: "4478963" } },
    });
    expect(crmShown?.log).toHaveLength(1);
    expect(await deadLetters.show("no-such-delivery")).toBeUndefined();
  });

  it("replays a dead letter with all its tries again, crashed ones included, under the same delivery id", async () => {
    sink.respondWith({ status: 500 }, { status: 500 });
    await post("crm four");
    await deadLettersCount(1);
    const [letter] = await deadLetters.list();
    const id = letter?.id ?? "";
    // As if a worker had also died once on it: a replay must forget that too.
    await redis.client.hset(relayKeys(prefix).deliveryJob(id), "stc", 1);

    sink.respondWith({ status: 500 });
    expect(await deadLetters.replay({ ids: [id] })).toEqual({ replayed: 1, notFound: [] });
    await sink.waitForRequests(4);
    await deadLettersCount(0);
    const ids = sink.requests.map((request) => (request.json as { deliveryId: string }).deliveryId);
    expect(ids).toEqual([id, id, id, id]);
    expect(await deadLetters.list()).toEqual([]);
    // The sink answers before the worker writes its "delivered" line.
    const delivered = new RegExp(`"deliveryId":"${id.replace(/\./g, "\\.")}".*"delivered"`);
    await waitFor(() => delivered.test(relay.logs.join("")), { what: "the replay's delivered line" });
  });

  it("replays by target only what failed within `since`", async () => {
    sink.respondWith({ status: 404 }, { status: 404 });
    await post("crm five");
    await post("crm six");
    await deadLettersCount(2);
    const [, old] = await deadLetters.list();
    await age(old?.id ?? "", 2 * day);

    expect(await deadLetters.replay({ target: "crm", since: day })).toEqual({ replayed: 1, notFound: [] });
    await sink.waitForRequests(3);
    await deadLettersCount(1);
    expect((await deadLetters.list()).map((letter) => letter.id)).toEqual([old?.id]);
  });

  it("does not take a delivery that is still being retried for a dead letter", async () => {
    sink.respondWith({ status: 503 });
    await post("slow seven");
    await waitFor(async () => ((await queue.getDelayedCount()) === 1 ? true : undefined));
    const [waiting] = await queue.getDelayed();
    const id = waiting?.id ?? "";

    expect(await deadLetters.show(id)).toBeUndefined();
    expect(await deadLetters.replay({ ids: [id] })).toEqual({ replayed: 0, notFound: [id] });
    expect(await deadLetters.purge({ ids: [id] })).toEqual({ purged: 0, notFound: [id] });
    expect(await queue.getDelayedCount()).toBe(1);
  });

  it("purges by id, by target, and only what is older than `olderThan`", async () => {
    sink.respondWith({ status: 404 }, { status: 404 });
    slack.failNext("channel_not_found");
    await post("crm eight");
    await post("crm nine");
    await post("slack ten");
    await deadLettersCount(3);
    const crm = await deadLetters.list({ target: "crm" });
    await age(crm[1]?.id ?? "", 2 * day);

    expect(await deadLetters.purge({ all: true, olderThan: day })).toEqual({ purged: 1, notFound: [] });
    expect(await deadLetters.purge({ target: "support-slack" })).toEqual({ purged: 1, notFound: [] });
    expect(await deadLetters.purge({ ids: [crm[0]?.id ?? "", "nope"] })).toEqual({ purged: 1, notFound: ["nope"] });
    expect(await deadLetters.list()).toEqual([]);
    expect(await redis.client.exists(`${relayKeys(prefix).deliveryJob(crm[0]?.id ?? "")}:logs`)).toBe(0);
  });
});
