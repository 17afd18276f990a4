import { readFileSync } from "node:fs";
import type { ParsedMail } from "mailparser";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { RelayEvent } from "../src/events.js";
import { emailThreadHeaders } from "../src/targets/email-thread.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SmtpServer, startSmtpServer } from "./support/smtp.js";
import { useRedis } from "./support/use-redis.js";

const fixture = (name: string) =>
  JSON.parse(readFileSync(new URL(`fixtures/socialboards/${name}.json`, import.meta.url), "utf8"));
const secrets = { VERIFY_TOKEN: "verify-3c1a", URL_TOKEN: "url-9e2b" };

/** What a mail client threads on, as the SMTP server received it. */
function threading(mail: ParsedMail | undefined) {
  return {
    subject: mail?.subject,
    messageId: mail?.messageId,
    inReplyTo: mail?.inReplyTo,
    references: mail?.references,
  };
}

describe("emails about one ticket, through a real SMTP server", () => {
  const redis = useRedis();
  let smtp: SmtpServer;
  let relay: TestRelay;

  beforeAll(async () => {
    smtp = await startSmtpServer();
  });

  beforeEach(async () => {
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: "\${VERIFY_TOKEN}", urlToken: "\${URL_TOKEN}" }
targets:
  oncall-email: { type: email, smtp: "${smtp.url}", from: "Relay <relay@example.com>", to: [oncall@example.com] }
routes:
  - name: all-to-email
    to: [oncall-email]
`,
      { env: secrets },
    );
  });

  afterEach(async () => {
    await relay.close();
    smtp.reset();
  });

  afterAll(async () => {
    await smtp?.close();
  });

  /** Posts one webhook and waits for its email, so the emails arrive in a known order. */
  const emailFor = async (payload: unknown, count: number): Promise<ParsedMail | undefined> => {
    const response = await fetch(`${relay.url}/webhooks/socialboards?token=${secrets.URL_TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(payload),
    });
    expect(response.status).toBe(200);
    return (await smtp.waitForMessages(count))[count - 1];
  };

  it("threads creation, reply and status change under the creation's Message-ID, with one subject", async () => {
    const created = threading(await emailFor(fixture("ticket_creation"), 1));
    const reply = threading(await emailFor(fixture("reply_creation"), 2));
    const statusChange = threading(await emailFor(fixture("ticket_status_change"), 3));

    // The first message's id is derived from the ticket alone: no state, same on every worker.
    expect(created.messageId).toMatch(/^<ticket-[0-9a-f]{32}@ticket-relay>$/);
    expect(created.inReplyTo).toBeUndefined();
    const root = created.messageId;
    for (const later of [reply, statusChange]) {
      expect(later.inReplyTo).toBe(root);
      expect(later.references).toBe(root);
    }
    const ids = [created.messageId, reply.messageId, statusChange.messageId];
    expect(new Set(ids).size).toBe(3);
    expect([created.subject, reply.subject, statusChange.subject]).toEqual([
      "Ticket #4478963",
      "Ticket #4478963",
      "Ticket #4478963",
    ]);
  });

  it("starts each email with what happened and ends it with the route", async () => {
    const mail = await emailFor(fixture("reply_creation"), 1);
    expect(mail?.text?.split("\n")[0]).toBe("Agent Anna Larsen replied on #4478963");
    expect(mail?.text?.trim().endsWith("-- \nvia ticket-relay · route all-to-email")).toBe(true);
    expect(mail?.html).toContain("via ticket-relay · route all-to-email");
  });

  it("keeps another ticket in a thread of its own", async () => {
    const first = threading(await emailFor(fixture("ticket_status_change"), 1));
    const other = fixture("ticket_status_change");
    other.Events[0].TicketId = 5512001;
    other.Events[0].Ticket.Id = 5512001;
    const second = threading(await emailFor(other, 2));
    expect(second.inReplyTo).toMatch(/^<ticket-[0-9a-f]{32}@ticket-relay>$/);
    expect(second.inReplyTo).not.toBe(first.inReplyTo);
    expect(second.subject).toBe("Ticket #5512001");
  });
});

describe("email thread headers", () => {
  const event: RelayEvent = {
    id: "r.0",
    source: "socialboards",
    sourceType: "socialboards",
    type: "ticket_status_change",
    known: true,
    receivedAt: "2026-11-24T10:00:00Z",
    ticketId: "4478963",
    community: "yourCompany",
    raw: {},
  };

  it("are the same for every retry of one delivery", () => {
    expect(emailThreadHeaders(event, "r.0.mail")).toEqual(emailThreadHeaders(event, "r.0.mail"));
  });

  it("leave an event of no conversation on its own", () => {
    const { ticketId: _ticketId, ...alone } = event;
    const headers = emailThreadHeaders(alone, "r.0.mail");
    expect(headers.messageId).toMatch(/^<delivery-[0-9a-f]{32}@ticket-relay>$/);
    expect(headers.inReplyTo).toBeUndefined();
    expect(headers.references).toBeUndefined();
  });

  it("scope a ticket id to its community: the same id elsewhere is another thread", () => {
    const elsewhere = emailThreadHeaders({ ...event, community: "otherCompany" }, "r.0.mail");
    expect(elsewhere.inReplyTo).not.toBe(emailThreadHeaders(event, "r.0.mail").inReplyTo);
  });
});
