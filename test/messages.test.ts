import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { RelayEvent } from "../src/events.js";
import { describeEvent } from "../src/messages/describe.js";
import { renderEmail } from "../src/messages/email.js";
import { renderSlack } from "../src/messages/slack.js";
import { createSocialboardsSource } from "../src/sources/socialboards/source.js";

const payload = JSON.parse(
  readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8"),
);
const source = createSocialboardsSource("socialboards", {
  type: "socialboards",
  verifyToken: "x",
  urlToken: undefined,
});
const [statusChange] = source.normalize(payload, {
  id: "r",
  source: "socialboards",
  receivedAt: "2026-11-24T10:00:00Z",
}) as [RelayEvent];

describe("default message for a status change", () => {
  const message = describeEvent(statusChange);

  it("says in one line which ticket moved from which status to which", () => {
    expect(message.title).toBe('Ticket #4478963 "Cat is ill": open → pending');
  });

  it("names the ticket's author as the customer, not as who changed it, and lists category and an excerpt", () => {
    expect(message.fields).toEqual(
      expect.arrayContaining([
        { label: "Status", value: "open → pending" },
        { label: "Customer", value: "Robert Baker" },
        { label: "Category", value: "Other cases" },
      ]),
    );
    expect(message.fields.map((field) => field.label)).not.toContain("Author");
    expect(message.excerpt).toBe("I want to take my cat to a vet");
    expect(message.link?.url).toBe("https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963");
  });

  it("renders Slack text and blocks with the same content", () => {
    const slack = renderSlack(message);
    expect(slack.text).toBe('Ticket #4478963 "Cat is ill": open → pending');
    const json = JSON.stringify(slack.blocks);
    for (const part of ["Robert Baker", "Other cases", "I want to take my cat to a vet", "ticketId=4478963"]) {
      expect(json).toContain(part);
    }
  });

  it("leaves community and sentiment out of Slack's fields, and keeps them in the email", () => {
    const slack = JSON.stringify(renderSlack(message).blocks);
    expect(slack).not.toContain("Community");
    expect(slack).not.toContain("Sentiment");
    const email = renderEmail(message);
    expect(email.text).toContain("Community: yourCompany");
    expect(email.text).toContain("Sentiment: question");
  });

  it("renders an email with the ticket's thread subject, what happened first, then text and HTML parts", () => {
    const email = renderEmail(message);
    expect(email.subject).toBe("Ticket #4478963");
    expect(email.text.split("\n")[0]).toBe('Ticket #4478963 "Cat is ill": open → pending');
    expect(email.text).toContain("Customer: Robert Baker");
    expect(email.html).toContain('<th align="left">Category</th><td>Other cases</td>');
    expect(email.html).toContain('href="https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963"');
  });
});

describe("who spoke, at a glance", () => {
  const reply = (role: "customer" | "agent" | "bot", name: string): RelayEvent => ({
    ...statusChange,
    type: "reply_creation",
    previousStatus: undefined,
    author: { role, name },
    message: { kind: "reply", text: "Thanks!" },
  });

  it("says whether a reply came from the customer or an agent, with the ticket's title", () => {
    expect(describeEvent(reply("customer", "Robert Baker")).title).toBe(
      'Customer Robert Baker replied on #4478963 "Cat is ill"',
    );
    expect(describeEvent(reply("agent", "Anna Larsen")).title).toBe(
      'Agent Anna Larsen replied on #4478963 "Cat is ill"',
    );
    expect(describeEvent(reply("bot", "Helper")).fields).toContainEqual({ label: "Bot", value: "Helper" });
  });

  it("names a ticket opened by an agent under who opened it", () => {
    const { customer: _customer, ...opened } = statusChange;
    const byAgent = { ...opened, ticket: { id: "4478963", author: { role: "agent" as const, name: "Anna Larsen" } } };
    expect(describeEvent(byAgent).fields).toContainEqual({ label: "Opened by", value: "Agent Anna Larsen" });
  });
});

describe("the footer a delivery adds", () => {
  const message = { ...describeEvent(statusChange), footer: "via ticket-relay · route pending-to-support" };

  it("is a Slack context block, in plain text", () => {
    expect(renderSlack(message).blocks.at(-1)).toEqual({
      type: "context",
      elements: [{ type: "plain_text", text: "via ticket-relay · route pending-to-support", emoji: false }],
    });
  });

  it("ends the email after a signature separator, and its HTML part", () => {
    const email = renderEmail(message);
    expect(email.text.endsWith("\n\n-- \nvia ticket-relay · route pending-to-support")).toBe(true);
    expect(email.html).toMatch(/<p style="[^"]*">via ticket-relay · route pending-to-support<\/p>$/);
  });

  it("leaves a template's subject in place of the thread subject", () => {
    expect(renderEmail({ ...message, templated: { title: "[yourCompany] pending" } }).subject).toBe(
      "[yourCompany] pending",
    );
  });
});

describe("text from a payload", () => {
  const hostile: RelayEvent = {
    ...statusChange,
    link: "javascript:alert(1)",
    ticket: {
      id: "1",
      title: "<!channel> & <script>alert('x')</script>",
      author: { name: "Eve <@U123>" },
      message: "line one\r\nSubject: spoofed",
    },
    ticketId: "1",
  };
  const message = describeEvent(hostile);

  it("cannot mention a Slack channel or user, or inject a link", () => {
    const slack = renderSlack(message);
    // Slack parses control sequences in mrkdwn and in the top-level text, not in plain_text.
    const parsed = [slack.text, ...mrkdwnTexts(slack.blocks)].join("\n");
    expect(parsed).not.toMatch(/<[!@#]/);
    expect(slack.text).toContain("&lt;!channel&gt; &amp; &lt;script&gt;");
    expect(parsed).toContain("Eve &lt;@U123&gt;");
  });

  it("cannot inject HTML into an email", () => {
    const email = renderEmail(message);
    expect(email.html).not.toContain("<script>");
    expect(email.html).toContain("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;");
    expect(email.subject).not.toMatch(/[\r\n]/);
  });

  it("never turns a non-web link into a button or an anchor", () => {
    expect(message.link).toBeUndefined();
    expect(JSON.stringify(renderSlack(message).blocks)).not.toContain("javascript:");
    expect(renderEmail(message).html).not.toContain("javascript:");
  });
});

function mrkdwnTexts(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(mrkdwnTexts);
  if (node === null || typeof node !== "object") return [];
  const record = node as Record<string, unknown>;
  const own = record.type === "mrkdwn" && typeof record.text === "string" ? [record.text] : [];
  return [...own, ...Object.values(record).flatMap(mrkdwnTexts)];
}
