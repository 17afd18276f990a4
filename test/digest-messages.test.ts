import { describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { parseConfig } from "../src/config/load.js";
import type { RelayEvent } from "../src/events.js";
import {
  digestMessage,
  digestTitle,
  durationWords,
  renderEmailDigest,
  renderSlackDigest,
} from "../src/messages/digest.js";
import type { DigestListing } from "../src/messages/message.js";

function statusChange(ticketId: number, status: string, link?: string): RelayEvent {
  return {
    id: `r${ticketId}.0`,
    source: "socialboards",
    sourceType: "socialboards",
    type: "ticket_status_change",
    known: true,
    receivedAt: "2026-11-25T10:00:00Z",
    ticketId: String(ticketId),
    ticket: { id: String(ticketId), title: `Printer <${ticketId}> & co`, status },
    previousStatus: "open",
    status,
    link: link ?? `https://inbox.example.com/tickets?ticketId=${ticketId}`,
    raw: null,
  };
}

function listing(events: RelayEvent[], count = events.length): DigestListing {
  return {
    count,
    entries: events.map((event) => ({ event, route: "bulk" })),
    group: { status: "closed" },
    windowMs: 120_000,
    openedAt: "2026-11-25T10:00:00.000Z",
    closedAt: "2026-11-25T10:02:00.000Z",
  };
}

const digestEvent: RelayEvent = {
  id: "digest-x.send",
  source: "socialboards",
  sourceType: "socialboards",
  type: "digest",
  known: true,
  receivedAt: "2026-11-25T10:00:00Z",
  raw: null,
};

describe("digest messages", () => {
  it("names what the events share: a status, else an event type, else only how many", () => {
    const closed = [statusChange(1, "closed"), statusChange(2, "closed")];
    expect(digestTitle(listing(closed, 400))).toBe("400 tickets closed in the last 2 minutes");
    expect(digestTitle(listing([statusChange(1, "closed"), statusChange(2, "open")]))).toBe(
      "2 ticket status change events in the last 2 minutes",
    );
    const other = { ...statusChange(3, "open"), type: "ticket_creation" };
    expect(digestTitle(listing([statusChange(1, "closed"), other]))).toBe("2 events in the last 2 minutes");
    expect([durationWords(1000), durationWords(1500), durationWords(3_600_000), durationWords(90_000)]).toEqual([
      "1 second",
      "1.5 seconds",
      "1 hour",
      "90 seconds",
    ]);
  });

  it("keeps a Slack digest of 500 events within Block Kit's limits, links where they fit, and counts the rest", () => {
    const longLink = `https://inbox.example.com/tickets?ticketId=1&pad=${"x".repeat(1000)}`;
    const events = Array.from({ length: 500 }, (_, index) =>
      statusChange(1000 + index, "closed", index === 0 ? longLink : undefined),
    );
    const message = digestMessage(listing(events, 900), digestEvent, "via ticket-relay · route bulk");
    const { text, blocks } = renderSlackDigest(message, message.digest as DigestListing);

    expect(text).toBe("900 tickets closed in the last 2 minutes");
    expect(blocks.length).toBeLessThanOrEqual(50);
    const sections = blocks.flatMap((block) => (block.type === "section" && block.text ? [block.text.text] : []));
    for (const section of sections) expect(section.length).toBeLessThanOrEqual(3000);
    const lines = sections.flatMap((section) => section.split("\n"));
    // Titles escaped for mrkdwn; the over-long link left out, the others kept.
    expect(lines[0]).toBe('• Ticket #1000 "Printer &lt;1000&gt; &amp; co": open → closed');
    expect(lines[1]).toBe(
      '• <https://inbox.example.com/tickets?ticketId=1001|Ticket #1001 "Printer &lt;1001&gt; &amp; co": open → closed>',
    );
    const more = JSON.stringify(blocks.at(-2));
    expect(more).toContain(`… and ${900 - lines.length} more`);
  });

  it("lists a digest in an email, one line and link per event, with the count of the rest", () => {
    const message = digestMessage(
      listing([statusChange(1, "closed"), statusChange(2, "closed")], 5),
      digestEvent,
      "via ticket-relay · route bulk",
    );
    const email = renderEmailDigest(message, message.digest as DigestListing);
    expect(email.subject).toBe("5 tickets closed in the last 2 minutes");
    expect(email.text).toContain(
      '- Ticket #1 "Printer <1> & co": open → closed\n  https://inbox.example.com/tickets?ticketId=1',
    );
    expect(email.text).toContain("… and 3 more");
    expect(email.html).toContain(
      '<li><a href="https://inbox.example.com/tickets?ticketId=2">Ticket #2 &quot;Printer &lt;2&gt; &amp; co&quot;: open → closed</a></li>',
    );
  });

  it("refuses an unknown groupBy field with its line and a guess", () => {
    const yaml = `
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm:
    type: http
    url: https://crm.example.com/hooks
    digest: { window: 2m, groupBy: [staus] }
`;
    expect(() => parseConfig(yaml, "relay.yaml", {})).toThrow(ConfigError);
    expect(() => parseConfig(yaml, "relay.yaml", {})).toThrow(
      /relay\.yaml:8.*unknown groupBy field "staus" — did you mean "status"\?/s,
    );
  });

  it("defaults a digest to a 2-minute window, 50 listed events, one group per event type", () => {
    const config = parseConfig(
      `
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "https://crm.example.com/hooks", digest: {} }
`,
      "relay.yaml",
      {},
    );
    expect(config.targets.crm?.digest).toEqual({ window: 120_000, max: 50, groupBy: ["type"] });
  });
});
