import type { KnownBlock } from "@slack/types";
import { describe, expect, it } from "vitest";
import type { RelayEvent } from "../src/events.js";
import type { Message } from "../src/messages/message.js";
import { renderSlack } from "../src/messages/slack.js";

const event = { id: "e", source: "s", sourceType: "generic", type: "t", raw: {} } as unknown as RelayEvent;
const withTitle = (title: string): Message => ({ title, fields: [], event });
const withLink = (url: string): Message => ({ title: "Ticket", fields: [], event, link: { url, label: "ticket #1" } });

/** The button's URL, or undefined when the message has no button. */
function buttonUrl(blocks: KnownBlock[]): string | undefined {
  for (const block of blocks) {
    if (block.type !== "actions") continue;
    for (const element of block.elements) if (element.type === "button") return element.url;
  }
  return undefined;
}

describe("a Slack message's text", () => {
  it("keeps a 200-character title whole", () => {
    const title = "T".repeat(200);
    expect(renderSlack(withTitle(title)).text).toBe(title);
  });

  it("cuts a 50,000-character title to 3,000 characters, so Slack does not refuse it as msg_too_long", () => {
    const { text } = renderSlack(withTitle("word ".repeat(10_000).trim()));
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/^word word .*…$/);
  });

  it("never cuts an escaped character in half", () => {
    const { text } = renderSlack(withTitle(`x${"<&>".repeat(5000)}`));
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/^x(&lt;&amp;&gt;)+(&lt;|&lt;&amp;)?…$/);
  });

  it("never splits a character outside the basic plane", () => {
    const { text } = renderSlack(withTitle(`x${"😀".repeat(5000)}`));
    expect(text.length).toBeLessThanOrEqual(3000);
    expect(text).toMatch(/^x(😀)+…$/u);
  });
});

describe("the button to open the ticket", () => {
  it.each([
    ["a quote", 'https://example.com/t?q="x"', "https://example.com/t?q=%22x%22"],
    ["angle brackets", "https://example.com/a<b>c?d=<e>", "https://example.com/a%3Cb%3Ec?d=%3Ce%3E"],
    ["pipes", "https://example.com/a|b?x=1|2#y|z", "https://example.com/a%7Cb?x=1%7C2#y%7Cz"],
    ["spaces", "https://example.com/a b?q=c d", "https://example.com/a%20b?q=c%20d"],
    ["an upper-case scheme and host", "HTTPS://Example.COM/Ticket", "https://example.com/Ticket"],
    ["nothing to change", "https://inbox.example.com/t?id=1&x=%20", "https://inbox.example.com/t?id=1&x=%20"],
  ])("percent-encodes a URL with %s", (_, url, expected) => {
    expect(buttonUrl(renderSlack(withLink(url)).blocks)).toBe(expected);
  });

  it.each([
    ["a javascript: URL", "javascript:alert(1)"],
    ["a mailto: URL", "mailto:someone@example.com"],
    ["no scheme", "example.com/ticket/1"],
    ["a path only", "/tickets/1"],
    ["no host", "https://"],
    ["over Block Kit's 3,000 characters", `https://example.com/${"a".repeat(3000)}`],
    ["3,000 characters once encoded", `https://example.com/${"|".repeat(1000)}`],
  ])("gives %s no button", (_, url) => {
    const { blocks } = renderSlack(withLink(url));
    expect(buttonUrl(blocks)).toBeUndefined();
    expect(blocks.some((block) => block.type === "actions")).toBe(false);
  });
});
