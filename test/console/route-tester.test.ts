import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openDeliveryQueue } from "../../src/queue/queues.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { type SlackApiServer, startSlackApi } from "../support/slack-api.js";
import { type SmtpServer, startSmtpServer } from "../support/smtp.js";
import { useRedis } from "../support/use-redis.js";

const token = "route-tester-token-81c2";
const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/** The fixture's status change (open → pending, "Cat is ill"), moved as asked. */
function statusChangeBody(change: { from?: string; to?: string; title?: string } = {}): string {
  const body = JSON.parse(statusChange);
  const [item] = body.Events;
  if (change.from) item.PreviousTicketStatus = change.from;
  if (change.to) item.Ticket.Status = change.to;
  if (change.title) item.Ticket.Title = change.title;
  return JSON.stringify(body, null, 2);
}

/** Undoes `html`'s escaping of one attribute value (`&#NN;`), as a browser reads it. */
const attributeText = (value: string) => value.replace(/&#(\d+);/g, (_, code) => String.fromCharCode(Number(code)));

/**
 * The route tester: a body pasted or a sample picked, run through the config in force by the
 * dry run of `route --event`, with each route's decision and each target's message, and not
 * one request to Slack, the SMTP server or the HTTP endpoint.
 */
describe("the console's route tester", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let slack: SlackApiServer;
  let smtp: SmtpServer;
  let relay: TestRelay;
  let cookie: string;
  let csrf: string;

  beforeAll(async () => {
    [sink, slack, smtp] = await Promise.all([
      startHttpSink(),
      startSlackApi({ token: "xoxb-test", channels: ["#support"] }),
      startSmtpServer(),
    ]);
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
admin: { token: "${token}" }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
  sonar: { type: sonar, urlToken: none }
targets:
  support-slack: { type: slack, token: xoxb-test, channel: "#support", apiUrl: "${slack.url}" }
  oncall-email: { type: email, smtp: "${smtp.url}", from: "Relay <relay@example.com>", to: oncall@example.com }
  crm: { type: http, url: "${sink.url}/hooks" }
timeIntervals:
  nights: { times: [{ start: "00:00", end: "06:00" }] }
routes:
  - name: urgent-titles
    match: { payload.Ticket.Title: { glob: "URGENT*" } }
    to: [support-slack]
  - name: open-to-pending
    match: { event: ticket_status_change, previousStatus: open, status: pending }
    to: [support-slack, oncall-email, crm]
  - name: night-creations
    match: { event: ticket_creation }
    activeDuring: [nights]
    to: [oncall-email]
`);
    const login = await fetch(`${relay.url}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual",
    });
    cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
    const page = await (await fetch(`${relay.url}/console/route-tester`, { headers: { cookie } })).text();
    csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
  });

  afterAll(async () => {
    await relay?.close();
    await Promise.all([sink?.close(), slack?.close(), smtp?.close()]);
  });

  async function test(form: Record<string, string>, withCsrf = true): Promise<{ status: number; page: string }> {
    const answer = await fetch(`${relay.url}/console/route-tester`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", cookie },
      body: new URLSearchParams(withCsrf ? { csrf, ...form } : form).toString(),
      redirect: "manual",
    });
    return { status: answer.status, page: await answer.text() };
  }

  it("offers a body, the config's sources, the samples `try` knows and a time", async () => {
    const answer = await fetch(`${relay.url}/console/route-tester`, { headers: { cookie } });
    expect(answer.status).toBe(200);
    const page = await answer.text();
    expect(page).toContain('<textarea id="tester-body" name="body"');
    expect(page).toContain('<option value="socialboards">socialboards (socialboards)</option>');
    expect(page).toContain('<option value="socialboards/ticket_status_change">ticket_status_change</option>');
    expect(page).toContain('<option value="sonar/new_assigned_message">new_assigned_message</option>');
    expect(page).toContain('type="datetime-local"');
  });

  it("says, for a status change no route takes, the first condition each route fails", async () => {
    const body = statusChangeBody({ from: "pending", to: "open" });
    const { status, page } = await test({ body, source: "", use: "body" });
    expect(status).toBe(200);
    expect(page).toContain("pending → open");
    expect(page).toContain("previousStatus is &#34;pending&#34;, wanted &#34;open&#34;");
    expect(page).toContain("payload.Ticket.Title is &#34;Cat is ill&#34;");
    expect(page).toContain("event is &#34;ticket_status_change&#34;, wanted &#34;ticket_creation&#34;");
    expect(page).toContain("none: no target receives it.");
    expect(page).not.toContain('class="would-send"');
    // The body stays in the textarea, to change and try again.
    expect(page).toContain("&#34;PreviousTicketStatus&#34;: &#34;pending&#34;");
  });

  it("draws the Slack message as Slack shows it, the email and the HTTP body, for a status change a route takes", async () => {
    const { status, page } = await test({ body: statusChangeBody(), source: "socialboards", use: "body" });
    expect(status).toBe(200);
    expect(page).toMatch(
      /<th scope="row">open-to-pending<\/th><td><span class="decision matched">✓ matched<\/span><\/td><td>→ support-slack, oncall-email, crm<\/td>/,
    );
    expect(page).toContain("night-creations");
    expect(page).toContain("open-to-pending took the event and has no continue");

    expect(page).toContain('<div class="slack-header">Ticket #4478963 &#34;Cat is ill&#34;: open → pending</div>');
    expect(page).toContain("<strong>Status</strong><br>open → pending");
    expect(page).toContain('<blockquote class="slack-quote">I want to take my cat to a vet</blockquote>');
    expect(page).toContain(
      '<a class="slack-button" href="https://inbox.socialboards.com/yourCompany/tickets?ticketId=4478963" target="_blank" rel="noopener noreferrer">Open ticket #4478963</a>',
    );
    expect(page).toContain("via ticket-relay · route open-to-pending");

    expect(page).toContain("<dt>Subject</dt><dd>Ticket #4478963</dd>");
    expect(page).toContain("Status: open → pending");
    expect(page).toMatch(/<iframe class="email-html" sandbox="" srcdoc="[^"]*Cat is ill/);

    expect(page).toContain("HTTP to POST ");
    expect(page).toContain("&#34;deliveryId&#34;: &#34;dry-run.0.crm&#34;");
  });

  it("escapes a script in a ticket's title in the decisions, the previews and the textarea", async () => {
    const title = "<script>alert(1)</script>";
    const { status, page } = await test({ body: statusChangeBody({ title }), use: "body" });
    expect(status).toBe(200);
    expect(page).not.toContain("<script>alert");
    const escaped = "&#60;script&#62;alert(1)&#60;/script&#62;";
    expect(page).toContain(`payload.Ticket.Title is &#34;${escaped}&#34;`);
    expect(page).toContain(`<div class="slack-header">Ticket #4478963 &#34;${escaped}&#34;: open → pending</div>`);
    expect(page).toContain(`&#34;Title&#34;: &#34;${escaped}&#34;`);
    // The email's HTML, as the frame reads it, holds the title as text, escaped by the relay.
    const srcdoc = attributeText(/srcdoc="([^"]*)"/.exec(page)?.[1] ?? "");
    expect(srcdoc).toContain("&lt;script&gt;alert(1)&lt;/script&gt;");
    expect(srcdoc).not.toContain("<script>");
  });

  it("routes a sample event type when no body is pasted, and keeps it in the textarea", async () => {
    const { status, page } = await test({ body: "", sample: "socialboards/ticket_creation", at: "2026-12-24T03:00" });
    expect(status).toBe(200);
    expect(page).toContain("Event: ticket_creation");
    expect(page).toContain("&#34;EventType&#34;: &#34;ticket_creation&#34;");
    expect(page).toContain('<option value="socialboards/ticket_creation" selected>');
    expect(page).toContain('<time datetime="2026-12-24T03:00:00.000Z">');
    expect(page).toContain("nights holds");
    expect(page).toMatch(/night-creations<\/th><td><span class="decision matched">/);
  });

  it("judges activeDuring at the time given", async () => {
    const { page } = await test({ sample: "socialboards/ticket_creation", use: "sample", at: "2026-12-24T12:00" });
    expect(page).toContain("nights does not hold");
    expect(page).toContain("active only during nights, which does not hold at the event&#39;s receipt");
    expect(page).toContain("none: no target receives it.");
  });

  it("answers 400 with the reason for a body that is not JSON, or not the source's", async () => {
    const notJson = await test({ body: '{"EventType": "ticket_creation",', use: "body" });
    expect(notJson.status).toBe(400);
    expect(notJson.page).toContain("The body is not JSON");
    expect(notJson.page).toContain("{&#34;EventType&#34;: &#34;ticket_creation&#34;,</textarea>");

    const notSocialboards = await test({ body: '{"action": "customer_created"}', source: "socialboards", use: "body" });
    expect(notSocialboards.status).toBe(400);
    expect(notSocialboards.page).toContain("The socialboards source refuses this body: not a Socialboards webhook");

    const nobody = await test({ body: '{"invoice": 1}', use: "body" });
    expect(nobody.status).toBe(400);
    expect(nobody.page).toContain("Cannot tell which source this payload is for");

    const badTime = await test({ body: statusChange, at: "tomorrow" });
    expect(badTime.status).toBe(400);
    expect(badTime.page).toContain("&#34;tomorrow&#34; is not a date and time.");
  });

  it("refuses a post without the page's CSRF token with 403", async () => {
    const { status } = await test({ body: statusChangeBody(), use: "body" }, false);
    expect(status).toBe(403);
  });

  it("sends nothing: no delivery queued, nothing at Slack, the SMTP server or the HTTP endpoint", async () => {
    await test({ body: statusChangeBody(), use: "body" });
    await waitForQuietQueues(relay.config.redis);
    const queue = openDeliveryQueue(relay.config.redis);
    try {
      const counts = await queue.getJobCounts();
      expect(Object.values(counts).reduce((sum, count) => sum + count, 0)).toBe(0);
    } finally {
      await queue.close();
    }
    expect(slack.calls).toBe(0);
    expect(smtp.messages).toHaveLength(0);
    expect(sink.requests).toHaveLength(0);
  });
});
