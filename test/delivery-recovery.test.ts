import { readFileSync } from "node:fs";
import { Queue } from "bullmq";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
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
const slackToken = "fake-slack-token-for-tests";

/** A body of its own for each post: the same body twice is the platform's retry. */
let titles = 0;
const another = () => {
  titles += 1;
  const [first] = statusChange.Events;
  return JSON.stringify({
    ...statusChange,
    Events: [{ ...first, Ticket: { ...first.Ticket, Title: `Case ${titles}` } }],
  });
};

/** What happens to a delivery its target refuses: retries, dead letters, fallback, duplicates. */
describe("when a delivery fails", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let smtp: SmtpServer;
  let sink: HttpSink;
  let relay: TestRelay | undefined;
  let deliveries: Queue | undefined;

  beforeAll(async () => {
    [slack, smtp, sink] = await Promise.all([
      startSlackApi({ token: slackToken, channels: ["#support"] }),
      startSmtpServer(),
      startHttpSink(),
    ]);
  });

  afterEach(async () => {
    await deliveries?.close();
    await relay?.close();
    slack.reset();
    smtp.reset();
    sink.reset();
  });

  afterAll(async () => {
    await Promise.all([slack?.close(), smtp?.close(), sink?.close()]);
  });

  async function start(targetsAndRoutes: string) {
    const prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
retry: { attempts: 3, backoff: fixed, delay: 50ms }
${targetsAndRoutes}
`);
    deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix });
    return relay;
  }

  const post = (body: string) =>
    fetch(`${relay?.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

  const deadLetters = () =>
    waitFor(async () => {
      const failed = (await deliveries?.getFailed()) ?? [];
      return failed.length > 0 ? failed : undefined;
    });

  it("emails the fallback once, saying why, when Slack refuses the channel", async () => {
    await start(`
targets:
  support-slack: { type: slack, token: ${slackToken}, channel: "#renamed", apiUrl: "${slack.url}", fallback: oncall-email }
  oncall-email: { type: email, smtp: "${smtp.url}", from: relay@example.com, to: oncall@example.com }
routes:
  - to: [support-slack]
`);
    expect((await post(another())).status).toBe(200);
    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.text).toContain("support-slack could not deliver it: Slack: channel_not_found");
    expect(slack.calls).toBe(1);
    const [dead] = await deadLetters();
    expect(dead?.id).toMatch(/\.support-slack$/);
    expect(dead?.failedReason).toBe("Slack: channel_not_found");
  });

  it("waits as long as a 429's Retry-After asks before the next try", async () => {
    await start(`
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - to: [crm]
`);
    sink.respondWith({ status: 429, headers: { "retry-after": "3" } });
    const times: number[] = [];
    const received = sink.requests;
    expect((await post(another())).status).toBe(200);
    await waitFor(() => received.length >= 1 && times.push(Date.now()));
    await sink.waitForRequests(2, 10_000);
    times.push(Date.now());
    expect((times[1] ?? 0) - (times[0] ?? 0)).toBeGreaterThanOrEqual(2900);
  }, 15_000);

  it("disables a target that answers 410 Gone, so its next deliveries go straight to dead letters", async () => {
    await start(`
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - to: [crm]
`);
    sink.respondWith({ status: 410 });
    expect((await post(another())).status).toBe(200);
    await deadLetters();
    expect((await post(another())).status).toBe(200);
    await waitFor(async () => ((await deliveries?.getFailedCount()) ?? 0) === 2, { what: "two dead letters" });
    expect(sink.requests).toHaveLength(1);
    const reasons = (await deliveries?.getFailed())?.map((job) => job.failedReason);
    expect(reasons).toContainEqual(expect.stringMatching(/^target crm is disabled since .*: HTTP crm .* answered 410/));
    expect(relay?.logs.join("")).toContain("target disabled");
  });

  it("delivers the same Socialboards body posted twice once per target", async () => {
    const started = await start(`
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
  oncall-email: { type: email, smtp: "${smtp.url}", from: relay@example.com, to: oncall@example.com }
routes:
  - to: [crm, oncall-email]
`);
    const body = another();
    expect(await (await post(body)).json()).toEqual({ accepted: 1, receipt: expect.any(String) });
    expect(await (await post(body)).json()).toEqual({ accepted: 0, duplicate: true });
    await Promise.all([sink.waitForRequests(1), smtp.waitForMessages(1)]);
    // A third, different body still goes through: the window holds duplicates only.
    expect(await (await post(another())).json()).toEqual({ accepted: 1, receipt: expect.any(String) });
    await Promise.all([sink.waitForRequests(2), smtp.waitForMessages(2)]);
    await waitForQuietQueues(started.config.redis);
    expect(sink.requests).toHaveLength(2);
    expect(smtp.messages).toHaveLength(2);
  });
});
