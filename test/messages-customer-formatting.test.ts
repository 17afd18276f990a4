import { describe, expect, it } from "vitest";
import type { RelayEvent } from "../src/events.js";
import { describeEvent } from "../src/messages/describe.js";
import { renderEmail } from "../src/messages/email.js";
import { renderSlack, type SlackMessage } from "../src/messages/slack.js";
import { advanceSnapshot, renderSlackRoot } from "../src/messages/slack-root.js";
import { compileTemplates } from "../src/messages/templates.js";

/**
 * A customer writes the names, titles and words the relay shows. Whatever Slack markup or line
 * breaks they type must show as text, never as the relay's own formatting, links or lines: a
 * customer named `Bob\nStatus: closed` must not make a ticket read as closed.
 */
const hostile = "*bold* _it_ ~strike~ `code` https://evil.example/login";
const event: RelayEvent = {
  id: "r.0",
  source: "socialboards",
  sourceType: "socialboards",
  type: "ticket_status_change",
  known: true,
  receivedAt: "2026-11-24T10:00:00.000Z",
  community: "yourCompany",
  ticketId: "4478963",
  link: "https://inbox.example.com/tickets/~4478963",
  ticket: { id: "4478963", title: `Cat ${hostile}`, message: `Words ${hostile}` },
  previousStatus: "open",
  status: "pending",
  category: `Cat\r\nStatus: closed ${hostile}`,
  customer: { role: "customer", name: `Bob\nStatus: closed\u2028Assigned to: nobody ${hostile}` },
  raw: {},
};
const message = describeEvent(event);

/** Every mrkdwn text a Slack message shows, and whether Slack's auto-linking is off for it. */
function mrkdwnTexts(slack: SlackMessage): { text: string; verbatim?: boolean }[] {
  return slack.blocks.flatMap((block) => {
    const texts = [
      ...("text" in block && block.text ? [block.text] : []),
      ...("fields" in block && block.fields ? block.fields : []),
      ...(block.type === "context" ? block.elements : []),
    ];
    return texts.filter(
      (text): text is { type: "mrkdwn"; text: string; verbatim?: boolean } =>
        typeof text === "object" && text.type === "mrkdwn",
    );
  });
}

/** Shown as text: no mark Slack formats with at a word's edge, and nothing Slack would link. */
function expectShownAsText(texts: { text: string; verbatim?: boolean }[], customerPart: RegExp) {
  const customer = texts.filter(({ text }) => customerPart.test(text));
  expect(customer.length).toBeGreaterThan(0);
  for (const { text, verbatim } of customer) {
    const value = text.replace(/^\*[^*\n]+\*\n/, "");
    expect(value, text).not.toMatch(/(^|[^\p{L}\p{N}])[*_~`]|[*_~`]($|[^\p{L}\p{N}])/u);
    expect(value, text).toContain("\u2217bold\u2217 \u02CDit\u02CD \u223Cstrike\u223C \u02CBcode\u02CB");
    expect(verbatim, text).toBe(true);
  }
}

describe("a customer's Slack formatting shown as text", () => {
  it("in the fields and the quote of the default message", () => {
    const texts = mrkdwnTexts(renderSlack(message));
    expectShownAsText(texts, /Bob/);
    expectShownAsText(texts, /^>Words/);
    expect(texts.find(({ text }) => text.startsWith(">"))?.text).toContain("https://evil.example/login");
  });

  it("in the notification line, with the relay's own mrkdwn kept", () => {
    expect(renderSlack(message).text).toBe(
      'Ticket #4478963 "Cat \u2217bold\u2217 \u02CDit\u02CD \u223Cstrike\u223C \u02CBcode\u02CB https://evil.example/login": open → pending',
    );
  });

  it("in the thread's root, fields, quote and latest line", () => {
    const snapshot = advanceSnapshot(undefined, message, { key: "k", kind: "ticket", id: "4478963" });
    const root = renderSlackRoot(snapshot, 2);
    const texts = mrkdwnTexts(root);
    expectShownAsText(texts, /^\*Customer\*/);
    expectShownAsText(texts, /^\*Category\*/);
    expectShownAsText(texts, /^>Words/);
    expectShownAsText(texts, /^Latest:/);
    expect(root.text).toContain("\u2217bold\u2217");
  });

  it("in a template's text, while the template's own mrkdwn and links stay live", () => {
    const templates = compileTemplates({
      targets: {
        slack: {
          type: "slack",
          template: { text: "*{{ event.customer.name }}* on <{{ event.link }}|the ticket>: {{ event.category }}" },
        },
      },
      routes: [],
    });
    const slack = renderSlack(templates.apply(message, { targetId: "slack", route: "r" }));
    const [text] = mrkdwnTexts(slack);
    expect(text).toEqual({
      type: "mrkdwn",
      verbatim: true,
      text:
        "*Bob Status: closed Assigned to: nobody \u2217bold\u2217 \u02CDit\u02CD \u223Cstrike\u223C \u02CBcode\u02CB https://evil.example/login*" +
        " on <https://inbox.example.com/tickets/%7E4478963|the ticket>:" +
        " Cat Status: closed \u2217bold\u2217 \u02CDit\u02CD \u223Cstrike\u223C \u02CBcode\u02CB https://evil.example/login",
    });
  });

  it("keeps marks inside a word, which Slack never formats, as typed", () => {
    const plain = describeEvent({ ...event, customer: { name: "john_doe@example.com", role: "customer" } });
    expect(mrkdwnTexts(renderSlack(plain)).map(({ text }) => text)).toContain("*Customer*\njohn_doe@example.com");
  });
});

describe("line breaks in a customer's single-line values", () => {
  const fakeLine = /(^|\n)\s*(Status: closed|Assigned to: nobody)/;

  it("become spaces in the default Slack message and email", () => {
    for (const { text } of mrkdwnTexts(renderSlack(message))) expect(text).not.toMatch(fakeLine);
    const email = renderEmail(message);
    expect(email.text).not.toMatch(fakeLine);
    expect(email.text).toContain("Customer: Bob Status: closed Assigned to: nobody");
  });

  it("become spaces in templated Slack text and in templated email subject and text", () => {
    const templates = compileTemplates({
      targets: {
        slack: {
          type: "slack",
          template: { text: "Customer: {{ event.customer.name }}\nCategory: {{ event.category }}" },
        },
        email: {
          type: "email",
          template: {
            subject: "{{ event.customer.name }}",
            text: "Customer: {{ event.customer.name }}\n{{ event.category }}",
          },
        },
      },
      routes: [],
    });
    const slack = renderSlack(templates.apply(message, { targetId: "slack", route: "r" }));
    const email = renderEmail(templates.apply(message, { targetId: "email", route: "r" }));
    expect(mrkdwnTexts(slack)[0]?.text.split("\n")).toHaveLength(2);
    expect(mrkdwnTexts(slack)[0]?.text).not.toMatch(fakeLine);
    expect(email.subject).toMatch(/^Bob Status: closed Assigned to: nobody /);
    expect(email.text.split("\n")).toHaveLength(2);
    expect(email.text).not.toMatch(fakeLine);
  });

  it("are kept in a customer's own words, which a template may show as written", () => {
    const words = describeEvent({ ...event, message: { kind: "reply", id: "m", text: "Hello\nthere" } });
    const templates = compileTemplates({
      targets: { email: { type: "email", template: { text: "{{ event.message.text }}" } } },
      routes: [],
    });
    expect(renderEmail(templates.apply(words, { targetId: "email", route: "r" })).text).toBe("Hello\nthere");
  });
});
