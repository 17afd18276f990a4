import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SlackApiServer, startSlackApi } from "./support/slack-api.js";
import { useRedis } from "./support/use-redis.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`fixtures/socialboards/${name}.json`, import.meta.url), "utf8"));
const slackToken = "fake-slack-token-for-tests";

/** Text far over Slack's limits is cut cleanly and delivered, never refused by Slack. */
describe("oversized Slack messages", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let relay: TestRelay;

  beforeAll(async () => {
    slack = await startSlackApi({ token: slackToken });
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support-slack: { type: slack, token: ${slackToken}, channel: "#support", apiUrl: "${slack.url}" }
retry: { attempts: 1 }
routes:
  - to: [support-slack]
`);
  });

  afterAll(async () => {
    await relay?.close();
    await slack?.close();
  });

  const post = (body: unknown) =>
    fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(body),
    });

  it("delivers a 5,000-character title, then a 60,000-character reply in its thread, each cut with …", async () => {
    const creation = fixture("ticket_creation");
    creation.Events[0].Ticket.Title = "T".repeat(5000);
    expect((await post(creation)).status).toBe(200);
    const [root] = await slack.waitForPosts(1);

    const reply = fixture("reply_creation");
    reply.Events[0].Reply.Message = "w ".repeat(30_000);
    reply.Events[0].Reply.HtmlMessage = "w ".repeat(30_000);
    expect((await post(reply)).status).toBe(200);
    const [, threaded] = await slack.waitForPosts(2);

    expect(threaded?.thread_ts).toBe(root?.ts);
    expect(JSON.stringify(threaded?.blocks)).toContain("w w w");
    for (const message of [root, threaded]) {
      expect(message?.text?.length).toBeLessThanOrEqual(40_000);
      expect(JSON.stringify(message?.blocks)).toContain("…");
    }
    expect(relay.logs.join("")).not.toMatch(/invalid_blocks|msg_too_long/);
  });
});
