import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { openDeliveryQueue } from "../src/queue/queues.js";
import { runCli, writeConfig } from "./support/cli-run.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SlackApiServer, startSlackApi } from "./support/slack-api.js";
import { type SmtpServer, startSmtpServer } from "./support/smtp.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = JSON.parse(
  readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8"),
);
const slackToken = "fake-slack-token-for-tests";

/** The fixture's one event with some of its fields changed, as a webhook body. */
function webhookWith(change: { title?: string; author?: string; status?: string; ticketId?: number }): string {
  const [first] = statusChange.Events;
  const ticket = {
    ...first.Ticket,
    ...(change.title && { Title: change.title }),
    ...(change.author && { Author: { ...first.Ticket.Author, Name: change.author } }),
    ...(change.status && { Status: change.status }),
    ...(change.ticketId && { Id: change.ticketId }),
  };
  const event = { ...first, Ticket: ticket, ...(change.ticketId && { TicketId: change.ticketId }) };
  return JSON.stringify({ ...statusChange, Events: [event] });
}

/**
 * Templates from the config, through the real path: a webhook over HTTP, Redis, the workers,
 * and what arrives at a Slack Web API server and an SMTP server.
 */
describe("message templates", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let smtp: SmtpServer;
  let relay: TestRelay;
  let configFile: string;
  let prefix: string;

  beforeAll(async () => {
    [slack, smtp] = await Promise.all([
      startSlackApi({ token: slackToken, channels: ["#support"] }),
      startSmtpServer(),
    ]);
  });

  beforeEach(async () => {
    prefix = uniquePrefix();
    const yaml = `
redis: { url: "${redis.url}", prefix: ${prefix} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  support-slack:
    type: slack
    token: ${slackToken}
    channel: "#support"
    apiUrl: "${slack.url}"
    fallback: oncall-email
    template:
      title: "{{ event.status | upcase }}: {{ event.ticket.title }}"
      text: |-
        *{{ event.customer.name }}* moved <{{ event.link }}|#{{ event.ticketId }}> to _{{ event.status }}_
        >{{ message.excerpt }}
  oncall-email:
    type: email
    smtp: "${smtp.url}"
    from: "Relay <relay@example.com>"
    to: oncall@example.com
    template:
      subject: "[{{ event.community }}] #{{ event.ticketId }} is {{ event.status }}"
      text: |-
        {{ message.title }}
        {% for field in message.fields %}{{ field.label }}: {{ field.value }}
        {% endfor %}Open it: {{ event.link }} (route {{ route }})
retry: { attempts: 2, backoff: fixed, delay: 50ms }
routes:
  - name: huge-tickets
    match: { ticketId: "99999999" }
    to: [support-slack]
    template:
      slack:
        # Passes check (its sample ticket id is small); on this ticket id it runs out of its
        # memory limit: a stand-in for a template that does too much work on one payload.
        text: "{% for i in (1..event.ticketId) %}.{% endfor %}"
  - name: closed
    match: { status: closed }
    to: [support-slack]
    template:
      slack:
        text: "<!here> closed: {{ message.title }}"
  - name: pending
    to: [support-slack, oncall-email]
`;
    relay = await startTestRelay(yaml);
    configFile = writeConfig(yaml);
  });

  afterEach(async () => {
    await relay?.close();
    slack.reset();
    smtp.reset();
  });

  afterAll(async () => {
    await Promise.all([slack?.close(), smtp?.close()]);
  });

  const postWebhook = (body: string) =>
    fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

  it("posts a Slack target's template, its mrkdwn kept and a payload's <!channel> escaped", async () => {
    await postWebhook(webhookWith({ author: "Robert <!channel> Baker & Co" }));

    const [post] = await slack.waitForPosts(1);
    const text =
      "*Robert &lt;!channel&gt; Baker &amp; Co* moved <https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963|#4478963> to _pending_\n" +
      ">I want to take my cat to a vet";
    expect(post?.text).toBe(text);
    expect(post?.blocks).toEqual([
      { type: "header", text: { type: "plain_text", text: "PENDING: Cat is ill", emoji: false } },
      { type: "section", text: { type: "mrkdwn", text, verbatim: true } },
      {
        type: "actions",
        elements: [
          {
            type: "button",
            text: { type: "plain_text", text: "Open ticket #4478963" },
            url: "https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963",
          },
        ],
      },
      { type: "context", elements: [{ type: "plain_text", text: "via ticket-relay · route pending", emoji: false }] },
    ]);
    expect(JSON.stringify(post)).not.toContain("<!channel>");
  });

  it("sends an email target's subject and text, and an HTML part escaped from the text", async () => {
    await postWebhook(webhookWith({ title: "Cat <b>is</b> ill" }));

    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.subject).toBe("[yourCompany] #4478963 is pending");
    expect(mail?.text?.trim()).toBe(
      [
        'Ticket #4478963 "Cat <b>is</b> ill": open → pending',
        "Status: open → pending",
        "Customer: Robert Baker",
        "Category: Other cases",
        "Came in by: web",
        "Sentiment: question",
        "Community: yourCompany",
        "Open it: https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963 (route pending)",
        "",
        "-- ",
        "via ticket-relay · route pending",
      ].join("\n"),
    );
    expect(mail?.html).toContain("Cat &lt;b&gt;is&lt;/b&gt; ill");
    expect(mail?.html).not.toContain("<b>");
  });

  it("uses a route's template over the target's, key by key", async () => {
    await postWebhook(webhookWith({ status: "closed" }));

    const [post] = await slack.waitForPosts(1);
    // The route's text, whose own <!here> is meant; the target's title, which the route keeps.
    expect(post?.text).toBe('<!here> closed: Ticket #4478963 "Cat is ill": open → closed');
    expect(post?.blocks?.[0]).toMatchObject({ type: "header", text: { text: "CLOSED: Cat is ill" } });
  });

  it("delivers the default message when a template fails at delivery, and warns once", async () => {
    await postWebhook(webhookWith({ ticketId: 99999999 }));
    await postWebhook(webhookWith({ ticketId: 99999999, title: "Dog is ill" }));

    const posts = await slack.waitForPosts(2);
    expect(posts.map((post) => post.text).sort()).toEqual([
      'Ticket #99999999 "Cat is ill": open → pending',
      'Ticket #99999999 "Dog is ill": open → pending',
    ]);
    expect(JSON.stringify(posts[0]?.blocks)).toContain("Robert Baker");
    const warnings = relay.logs.filter((line) => line.includes("template failed"));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain('"template":"routes[0].template.slack.text"');
    expect(warnings[0]).toContain("memory alloc limit exceeded");
    // Each default message sent in a template's place is counted, though only the first is logged.
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    expect(metrics).toMatch(/^ticket_relay_template_fallbacks_total\{target="[^"]+",route="[^"]+"\} 2$/m);
  });

  it("starts a fallback delivery's templated text with why it came here", async () => {
    slack.failNext("channel_not_found");
    await postWebhook(webhookWith({ status: "closed" }));

    const [mail] = await smtp.waitForMessages(1);
    expect(mail?.subject).toBe("[yourCompany] #4478963 is closed");
    const [first, second] = mail?.text?.split("\n") ?? [];
    expect(first).toBe("Sent here because support-slack could not deliver it: Slack: channel_not_found");
    expect(second).toBe('Ticket #4478963 "Cat is ill": open → closed');
  });

  it("shows the templated message in `dlq show`, as a replay would send it", async () => {
    slack.failNext("channel_not_found");
    await postWebhook(webhookWith({ status: "closed" }));
    const queue = openDeliveryQueue({ url: redis.url, prefix });
    try {
      const [failed] = await waitFor(async () => {
        const jobs = await queue.getFailed();
        return jobs.length > 0 ? jobs : undefined;
      });
      const { code, stdout } = await runCli(["dlq", "show", failed?.id ?? "", "--json", "--config", configFile]);
      expect(code).toBe(0);
      expect(JSON.parse(stdout).message).toMatchObject({
        type: "slack",
        text: '<!here> closed: Ticket #4478963 "Cat is ill": open → closed',
      });
    } finally {
      await queue.close();
    }
  });
});
