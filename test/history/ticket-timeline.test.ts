import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { HistoryTools } from "../../src/history/history-tools.js";
import { everyKey, openHistoryTools, storyWhen } from "../support/history.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { slackChannelId, slackWorkspaceUrl } from "../support/slack-api.js";
import { replyCreation, statusChange, ticketCreation } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { useTargetServers } from "../support/use-target-servers.js";

const slackToken = "xoxb-ticket-timeline";
/**
 * Ticket ids long enough that no timestamp, job id or random id in Redis holds them by chance:
 * the forget test looks for them in every key and value.
 */
const forgotten = 918273645091;
const kept = 546372819054;

/**
 * A ticket across its webhooks (`ticket-relay ticket ID`), and forgetting it (`events forget`):
 * a real relay posting to the Slack stand-in, in one thread per ticket, and to an HTTP endpoint.
 */
describe("a ticket's history", () => {
  const redis = useRedis();
  const targets = useTargetServers(slackToken);
  let relay: TestRelay;
  let prefix: string;
  let history: { tools: HistoryTools; close(): Promise<void> };

  beforeEach(async () => {
    prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  support-slack: { type: slack, token: "${slackToken}", channel: "#support", apiUrl: "${targets.slack.url}", thread: true, pace: 0 }
  crm: { type: http, url: "${targets.sink.url}/hooks", timeout: 2s, retry: { attempts: 1 } }
routes:
  - { name: everything, to: [support-slack, crm] }
`);
    history = openHistoryTools(redis.client, relay.config);
  });
  afterEach(async () => {
    await relay.close();
    await history.close();
    targets.slack.reset();
    targets.sink.reset();
  });

  async function post(body: unknown): Promise<string> {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }
  const settled = (receipt: string) =>
    storyWhen(history.tools.reader, receipt, (s) =>
      s.deliveries.every((d) => d.state === "delivered" || d.state === "dead"),
    );

  it("tells a ticket's creation, reply and two status changes oldest first, with its Slack thread", async () => {
    const ticket = 4478963;
    const receipts = [];
    for (const body of [
      ticketCreation(ticket),
      replyCreation(ticket, 1),
      statusChange(ticket, "open", "pending"),
      statusChange(ticket, "pending", "closed"),
    ]) {
      receipts.push(await post(body));
    }
    for (const receipt of receipts) await settled(receipt);
    const timeline = await history.tools.reader.ticket(String(ticket));
    expect(timeline.webhooks.map((story) => story.webhook.id)).toEqual(receipts);
    expect(timeline.webhooks.map((story) => story.webhook.events[0])).toMatchObject([
      { type: "ticket_creation", ticketId: String(ticket) },
      { type: "reply_creation", ticketId: String(ticket) },
      { type: "ticket_status_change", previousStatus: "open", status: "pending" },
      { type: "ticket_status_change", previousStatus: "pending", status: "closed" },
    ]);
    // One thread: the creation is its root, the rest reply in it.
    const [root, ...replies] = targets.slack.posts;
    expect(replies.map((reply) => reply.thread_ts)).toEqual([root?.ts, root?.ts, root?.ts]);
    expect(timeline.slackThread).toBe(`${slackWorkspaceUrl}archives/${slackChannelId}/p${root?.ts.replace(".", "")}`);
    // The same as `events --ticket` finds, newest first.
    const listed = await history.tools.reader.list({ ticket: String(ticket) });
    expect(listed.webhooks.map((story) => story.webhook.id)).toEqual([...receipts].reverse());
  });

  it("forgets every record of a ticket, its dead letter and its thread, and nothing of another ticket", async () => {
    targets.sink.respondWith({ status: 503, body: "crm is down" });
    const first = await post(ticketCreation(forgotten));
    const dead = await storyWhen(history.tools.reader, first, (s) =>
      s.deliveries.some((d) => d.target === "crm" && d.state === "dead"),
    );
    expect(dead.deliveries.find((d) => d.target === "support-slack")?.state).not.toBe("dead");
    await settled(await post(statusChange(forgotten, "open", "pending")));
    await settled(await post(ticketCreation(kept)));
    await waitForQuietQueues(relay.config.redis);
    expect(targets.slack.posts).toHaveLength(3);
    const anyOf = async (id: number) =>
      (await everyKey(redis.client, `${prefix}:*`)).filter(
        ({ key, text }) => key.includes(String(id)) || text.includes(String(id)),
      );
    expect((await anyOf(forgotten)).length).toBeGreaterThan(0);
    expect((await history.tools.reader.ticket(String(forgotten))).slackThread).toBeDefined();

    const removed = await history.tools.forget(String(forgotten));
    expect(removed).toMatchObject({ webhooks: 2, deadLetters: 1 });
    // The Slack thread's root, kept for the ticket's next message.
    expect(removed.conversationKeys).toBeGreaterThan(0);
    expect(await anyOf(forgotten)).toEqual([]);
    expect(await history.tools.reader.ticket(String(forgotten))).toEqual({ ticket: String(forgotten), webhooks: [] });
    expect((await history.tools.reader.list()).webhooks.map((story) => story.webhook.events[0]?.ticketId)).toEqual([
      String(kept),
    ]);
    const other = await history.tools.reader.ticket(String(kept));
    expect(other.webhooks).toHaveLength(1);
    expect(other.slackThread).toBeDefined();
    expect((await anyOf(kept)).length).toBeGreaterThan(0);
  });
});
