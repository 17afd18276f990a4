import { readFileSync } from "node:fs";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import type { WebhookStory } from "../../src/history/story.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { slackChannelId, slackWorkspaceUrl } from "../support/slack-api.js";
import { useRedis } from "../support/use-redis.js";
import { useTargetServers } from "../support/use-target-servers.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);
const slackToken = "xoxb-history-test";

/**
 * What `ticket-relay events show` reads, written by a relay that routes and delivers for real:
 * through the Slack stand-in and an HTTP endpoint, on a Redis of its own.
 */
describe("the history of a webhook", () => {
  const redis = useRedis();
  const targets = useTargetServers(slackToken);
  let relay: TestRelay;
  let reader: HistoryReader;

  beforeEach(async () => {
    const prefix = uniquePrefix();
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: u }
targets:
  support-slack: { type: slack, token: "${slackToken}", channel: "#support", apiUrl: "${targets.slack.url}", pace: 0 }
  crm: { type: http, url: "${targets.sink.url}/hooks", timeout: 2s }
retry: { attempts: 3, backoff: fixed, delay: 50ms }
routes:
  - name: pending-to-slack
    match: { event: ticket_status_change, previousStatus: open, status: pending }
    to: [support-slack, crm]
  - name: closed-to-crm
    match: { event: ticket_status_change, status: closed }
    to: [crm]
`,
    );
    reader = new HistoryReader(redis.client, historyKeys(prefix));
  });
  afterEach(async () => {
    await relay.close();
    targets.slack.reset();
    targets.sink.reset();
  });

  async function post(body: string): Promise<string> {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, { method: "POST", body });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }

  async function storyWhenSettled(receipt: string, settled: (story: WebhookStory) => boolean) {
    let story: WebhookStory | undefined;
    await waitFor(async () => {
      story = await reader.show(receipt);
      return story !== undefined && settled(story);
    });
    return story as WebhookStory;
  }

  it("tells where a delivered event went: the Slack message with its link, and the HTTP status", async () => {
    const receipt = await post(statusChange);
    const story = await storyWhenSettled(receipt, (s) => s.deliveries.every((d) => d.state === "delivered"));
    expect(story.webhook.events).toMatchObject([
      { type: "ticket_status_change", ticketId: "4478963", previousStatus: "open", status: "pending" },
    ]);
    expect(story.webhook.events[0]?.routes).toEqual([
      { route: "pending-to-slack", decision: "matched", to: ["support-slack", "crm"] },
      { route: "closed-to-crm", decision: "notTried", why: "pending-to-slack took the event and has no continue" },
    ]);
    const slackDelivery = story.deliveries.find((d) => d.target === "support-slack");
    const [post_] = targets.slack.posts;
    expect(slackDelivery?.steps).toMatchObject([
      {
        kind: "delivered",
        try: 1,
        where: {
          slack: {
            channel: slackChannelId,
            ts: post_?.ts,
            permalink: `${slackWorkspaceUrl}archives/${slackChannelId}/p${post_?.ts.replace(".", "")}`,
          },
        },
      },
    ]);
    const crm = story.deliveries.find((d) => d.target === "crm");
    expect(crm?.steps).toMatchObject([{ kind: "delivered", where: { status: 200 } }]);
  });

  it("records a webhook no route took, with each route's reason", async () => {
    const receipt = await post(statusChange.replace('"PreviousTicketStatus": "open"', '"PreviousTicketStatus": "new"'));
    const story = await storyWhenSettled(receipt, () => true);
    expect(story.noRoute).toBe(true);
    expect(story.deliveries).toEqual([]);
    expect(story.webhook.events[0]?.routes).toEqual([
      { route: "pending-to-slack", decision: "unmet", why: 'previousStatus is "new", wanted "open"' },
      { route: "closed-to-crm", decision: "unmet", why: 'status is "pending", wanted "closed"' },
    ]);
    const page = await reader.list({ outcome: "no-route" });
    expect(page.webhooks.map((w) => w.webhook.id)).toEqual([receipt]);
  });

  it("keeps both tries of a 503 then 200, with their status and how long each took", async () => {
    targets.sink.respondWith({ status: 503, body: "busy, come back later" });
    const receipt = await post(statusChange);
    const story = await storyWhenSettled(receipt, (s) => s.deliveries.every((d) => d.state === "delivered"));
    const crm = story.deliveries.find((d) => d.target === "crm");
    expect(crm?.steps.map((step) => step.kind)).toEqual(["failed", "retrying", "delivered"]);
    expect(crm?.steps[0]).toMatchObject({ try: 1, answer: { status: 503, excerpt: "busy, come back later" } });
    expect(crm?.steps[2]).toMatchObject({ try: 2, where: { status: 200 } });
    for (const step of crm?.steps ?? []) if ("ms" in step) expect(step.ms).toBeGreaterThanOrEqual(0);
    expect((await reader.list({ outcome: "failed" })).webhooks.map((w) => w.webhook.id)).toEqual([receipt]);
    expect((await reader.list({ outcome: "retrying" })).webhooks).toEqual([]);
    await waitForQuietQueues(relay.config.redis);
  });
});
