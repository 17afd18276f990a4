import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import type { WebhookStory } from "../../src/history/story.js";
import { storyWhen } from "../support/history.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { slackChannelId, slackWorkspaceUrl } from "../support/slack-api.js";
import { aboutTicket, replyCreation, statusChange, ticketCreation } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { useTargetServers } from "../support/use-target-servers.js";

const token = "console-events-token-7c1d";
const slackToken = "xoxb-console-events";

/**
 * The console's Events, Webhook and Ticket pages, read as a browser reads them (HTML over HTTP
 * with the session cookie), from a relay that routes and delivers for real: through the Slack
 * stand-in and an HTTP endpoint, on a Redis of its own.
 */
describe("the console's events, webhook and ticket pages", () => {
  const redis = useRedis();
  const targets = useTargetServers(slackToken);
  let relay: TestRelay;
  let reader: HistoryReader;
  let cookie: string;

  beforeEach(async () => {
    const prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
admin: { token: "${token}" }
history: { bodies: all }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  support-slack: { type: slack, token: "${slackToken}", channel: "#support", apiUrl: "${targets.slack.url}", thread: true, pace: 0 }
  crm: { type: http, url: "${targets.sink.url}/hooks", timeout: 2s, retry: { attempts: 2, backoff: fixed, delay: 50ms } }
routes:
  - name: tickets-to-slack
    match: { event: [ticket_creation, reply_creation] }
    to: [support-slack, crm]
  - name: pending-to-crm
    match: { event: ticket_status_change, previousStatus: open, status: pending }
    to: [crm]
`);
    reader = new HistoryReader(redis.client, historyKeys(prefix));
    const login = await fetch(`${relay.url}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  });
  afterEach(async () => {
    await waitForQuietQueues(relay.config.redis);
    await relay.close();
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

  /** A page of the console as HTML, its time logged (not asserted: it is for information). */
  async function page(path: string, status = 200): Promise<string> {
    const started = performance.now();
    const answer = await fetch(`${relay.url}${path}`, { headers: { cookie }, redirect: "manual" });
    const text = await answer.text();
    console.log(`GET ${path.slice(0, 60)}: ${(performance.now() - started).toFixed(1)} ms`);
    expect(answer.status, `${path}: ${text.slice(0, 400)}`).toBe(status);
    return text;
  }

  const settled = (receipt: string) =>
    storyWhen(reader, receipt, (story: WebhookStory) =>
      story.deliveries.every((delivery) => delivery.state === "delivered" || delivery.state === "dead"),
    );

  /** The rows of the events table, each as its HTML, newest first. */
  function rowsOf(html: string): string[] {
    return [...html.matchAll(/<tr data-receipt="[^"]+"[\s\S]*?<\/tr>/g)].map((match) => match[0]);
  }
  const receiptOf = (row: string) => /data-receipt="([^"]+)"/.exec(row)?.[1];

  it("lists a delivered webhook and one no route took, and filters them by outcome", async () => {
    const delivered = await post(ticketCreation(5100001));
    const noRoute = await post(statusChange(5100001, "pending", "closed"));
    await Promise.all([settled(delivered), settled(noRoute)]);

    const all = await page("/console/events");
    const rows = rowsOf(all);
    expect(rows.map(receiptOf)).toEqual([noRoute, delivered]);
    const [closed, created] = rows as [string, string];
    expect(created).toContain(`href="/console/events/${delivered}"`);
    expect(created).toContain('href="/console/tickets/5100001"');
    expect(created).toContain("ticket_creation");
    expect(created).toMatch(/support-slack <span class="badge delivered">delivered<\/span>/);
    expect(created).toMatch(/crm <span class="badge delivered">delivered<\/span>/);
    expect(closed).toContain("ticket_status_change");
    expect(closed).toContain("pending → closed");
    expect(closed).toContain('<span class="badge no-route">no route</span>');
    // The filters are a form a browser sends as a GET: sources and targets of the config to choose from.
    expect(all).toMatch(/<select id="filter-source" name="source">[\s\S]*<option value="socialboards">/);
    expect(all).toMatch(/<select id="filter-target" name="target">[\s\S]*<option value="crm">/);
    for (const outcome of ["delivered", "failed", "dead", "retrying", "held", "dropped", "no-route", "duplicate"]) {
      expect(all).toContain(`<option value="${outcome}">`);
    }

    expect(rowsOf(await page("/console/events?outcome=no-route")).map(receiptOf)).toEqual([noRoute]);
    const deliveredOnly = await page("/console/events?outcome=delivered&since=1h");
    expect(rowsOf(deliveredOnly).map(receiptOf)).toEqual([delivered]);
    expect(deliveredOnly).toContain('<option value="delivered" selected>');
    expect(deliveredOnly).toContain('<option value="1h" selected>');
    expect(rowsOf(await page("/console/events?outcome=dead")).map(receiptOf)).toEqual([]);
    expect(await page("/console/events?outcome=lost", 400)).toContain("outcome is one of");
  });

  it("pages to older webhooks by the cursor in the Older link, keeping the filters", async () => {
    const receipts: string[] = [];
    // Webhooks no route takes: 60 of them cost no delivery.
    for (let i = 0; i < 60; i += 1) receipts.push(await post(statusChange(5200000 + i, "new", "closed")));
    await storyWhen(reader, receipts.at(-1) ?? "", () => true);
    await waitForQuietQueues(relay.config.redis);

    const first = await page("/console/events?outcome=no-route");
    expect(rowsOf(first).map(receiptOf)).toEqual([...receipts].reverse().slice(0, 50));
    const older = /<a rel="next" href="([^"]+)">Older<\/a>/.exec(first)?.[1]?.replaceAll("&#38;", "&");
    expect(older).toMatch(/^\/console\/events\?outcome=no-route&cursor=/);
    const second = await page(older ?? "");
    expect(rowsOf(second).map(receiptOf)).toEqual([...receipts].reverse().slice(50));
    expect(second).not.toContain("Older</a>");
    expect(second).toContain('<a href="/console/events?outcome=no-route">Newest</a>');
    // Live mode is for the newest page only.
    expect(first).toContain('id="live-toggle"');
    expect(second).not.toContain('id="live-toggle"');
  });

  it("answers the live mode with the rows received after a time, and only those", async () => {
    const before = await post(ticketCreation(5300001));
    const beforeStory = await settled(before);
    const after = await post(replyCreation(5300001, 1));
    await settled(after);

    const started = performance.now();
    const answer = await fetch(
      `${relay.url}/console/events/rows?after=${Date.parse(beforeStory.webhook.receivedAt)}&ticket=5300001`,
      { headers: { cookie } },
    );
    console.log(`GET /console/events/rows: ${(performance.now() - started).toFixed(1)} ms`);
    expect(answer.status).toBe(200);
    const rows = (await answer.json()) as { rows: string; ids: string[]; newest: number };
    expect(rows.ids).toEqual([after]);
    expect(rowsOf(rows.rows).map(receiptOf)).toEqual([after]);
    expect(rows.rows).toContain("reply_creation");
    expect(rows.newest).toBeGreaterThanOrEqual(Date.parse(beforeStory.webhook.receivedAt));

    const none = (await (
      await fetch(`${relay.url}/console/events/rows?after=${rows.newest}`, { headers: { cookie } })
    ).json()) as { ids: string[] };
    expect(none.ids).toEqual([]);
    // The page's script, served by the relay itself, is what asks for them.
    const script = await (await fetch(`${relay.url}/console/assets/console.js`)).text();
    expect(script).toContain("/console/events/rows?");
  });

  it("shows a webhook's tries, a 503 then a 200 with their latencies, and the link to its Slack message", async () => {
    targets.sink.respondWith({ status: 503, body: "busy, come back later" });
    const receipt = await post(ticketCreation(5400001));
    const story = await settled(receipt);
    const [slackPost] = targets.slack.posts;

    const html = await page(`/console/events/${receipt}`);
    expect(html).toContain(`<h1>Webhook ${receipt}</h1>`);
    expect(html).toContain("socialboards");
    expect(html).toContain('href="/console/tickets/5400001"');
    // Each route's decision.
    expect(html).toMatch(/tickets-to-slack<\/td><td><span class="badge ok">matched<\/span> → support-slack, crm/);
    expect(html).toMatch(
      /pending-to-crm<\/td><td><span class="badge">not tried<\/span> tickets-to-slack took the event/,
    );
    // The HTTP target's tries.
    const crm = story.deliveries.find((delivery) => delivery.target === "crm");
    const [failed, , delivered] = crm?.steps ?? [];
    expect(failed?.kind === "failed" && delivered?.kind === "delivered").toBe(true);
    if (failed?.kind !== "failed" || delivered?.kind !== "delivered") return;
    expect(html).toContain(
      `<span class="badge failed">try 1 failed</span> in ${failed.ms} ms: <strong>HTTP 503</strong>`,
    );
    expect(html).toContain("busy, come back later");
    expect(html).toContain('<span class="badge retrying">retrying</span> next try at');
    expect(html).toContain(`<span class="badge delivered">delivered</span> on try 2 in ${delivered.ms} ms: HTTP 200`);
    // The Slack message, by its link.
    const permalink = `${slackWorkspaceUrl}archives/${slackChannelId}/p${slackPost?.ts.replace(".", "")}`;
    expect(html).toContain(`<a class="slack-link" href="${permalink}" rel="noreferrer">Slack message</a>`);
    // The body the history kept (history.bodies: all), indented.
    expect(html).toContain("&#34;Title&#34;: &#34;Cat is ill&#34;");

    expect(await page("/console/events/0190aaaa-no-such-receipt", 404)).toContain(
      "No webhook &#34;0190aaaa-no-such-receipt&#34; in the history",
    );
  });

  it("replays a dead letter with the Replay button (and the page's CSRF token), and it reaches the target", async () => {
    targets.sink.respondWith({ status: 503, body: "down" }, { status: 503, body: "still down" });
    const receipt = await post(statusChange(5500001, "open", "pending"));
    await storyWhen(reader, receipt, (story) => story.deliveries[0]?.state === "dead");
    await waitForQuietQueues(relay.config.redis);
    expect(targets.sink.requests).toHaveLength(2);

    const before = await page(`/console/events/${receipt}`);
    expect(before).toContain('<span class="badge dead">dead letter</span>');
    expect(before).toMatch(/Would queue 1 delivery:\s*<ul><li><span class="mono">crm<\/span> \(dead letter\)/);
    const form = /<form class="replay" method="post" action="([^"]+)"[\s\S]*?<\/form>/.exec(before)?.[0] ?? "";
    expect(form).toContain('<button type="submit">Replay</button>');
    const csrf = /name="csrf" value="([^"]+)"/.exec(form)?.[1] ?? "";
    const action = /action="([^"]+)"/.exec(form)?.[1] ?? "";
    expect(action).toBe(`/console/events/${receipt}/replay`);

    const forged = await fetch(`${relay.url}${action}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: "csrf=forged",
      redirect: "manual",
    });
    expect(forged.status).toBe(403);
    expect(targets.sink.requests).toHaveLength(2);

    const replay = await fetch(`${relay.url}${action}`, {
      method: "POST",
      headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ csrf }).toString(),
      redirect: "manual",
    });
    expect(replay.status).toBe(303);
    const back = replay.headers.get("location") ?? "";
    expect(back).toMatch(new RegExp(`^/console/events/${receipt}\\?done=`));
    expect(new URL(back, relay.url).searchParams.get("done")).toBe("Replay queued 1 delivery.");
    await targets.sink.waitForRequests(3);
    await storyWhen(reader, receipt, (story) => story.deliveries[0]?.state === "delivered");
    expect(relay.logs.join("")).toMatch(/"from":"console".*"msg":"replay from the console"/);

    const after = await page(back);
    expect(after).toContain('<p class="notice" role="status">Replay queued 1 delivery.</p>');
    expect(after).toContain('<span class="badge queued">replayed</span> queued again from console');
    expect(after).toMatch(/<h3><span class="mono">crm<\/span> <span class="badge delivered">delivered<\/span><\/h3>/);
  });

  it("tells a ticket's creation, reply and status change oldest first, with its Slack thread", async () => {
    const ticket = 5600001;
    const receipts: string[] = [];
    for (const body of [ticketCreation(ticket), replyCreation(ticket, 1), statusChange(ticket, "open", "pending")]) {
      receipts.push(await post(body));
    }
    for (const receipt of receipts) await settled(receipt);
    const [root] = targets.slack.posts;

    // The header's search form asks /console/ticket?id=, which sends to the ticket's page.
    const search = await fetch(`${relay.url}/console/ticket?id=${ticket}`, { headers: { cookie }, redirect: "manual" });
    expect(search.status).toBe(303);
    expect(search.headers.get("location")).toBe(`/console/tickets/${ticket}`);

    const html = await page(`/console/tickets/${ticket}`);
    expect(html).toContain(`<h1>Ticket ${ticket}</h1>`);
    const thread = `${slackWorkspaceUrl}archives/${slackChannelId}/p${root?.ts.replace(".", "")}`;
    expect(html).toContain(`<a href="${thread}" rel="noreferrer">Slack thread</a>`);
    const items = [...html.matchAll(/<li>\s*<h2>[\s\S]*?<\/ul>\s*<\/li>/g)].map((match) => match[0]);
    expect(items.map((item) => /href="\/console\/events\/([^"]+)"/.exec(item)?.[1])).toEqual(receipts);
    const [creation, reply, change] = items as [string, string, string];
    expect(creation).toContain("ticket_creation");
    expect(creation).toMatch(
      /support-slack<\/span> <span class="muted">\(tickets-to-slack\)<\/span>: <span class="badge delivered">delivered<\/span> on try 1 in \d+ ms: <a class="slack-link"/,
    );
    expect(reply).toContain("reply_creation");
    expect(change).toContain(
      '<span class="mono">ticket_status_change</span> <span class="status-change">open → pending</span>',
    );
    expect(change).toMatch(
      /crm<\/span> <span class="muted">\(pending-to-crm\)<\/span>: <span class="badge delivered">delivered<\/span> on try 1 in \d+ ms: HTTP 200/,
    );

    const empty = await page("/console/tickets/5699999");
    expect(empty).toContain("Nothing recorded for ticket 5699999 (kept 7 days)");
  });

  it("escapes what a webhook carries: a ticket title with a script stays text", async () => {
    const ticket = 5700001;
    const title = "<script>alert(1)</script>";
    const receipt = await post(
      aboutTicket("ticket_creation", ticket, (item) => {
        item.Ticket.Title = title;
        item.Ticket.Message = `<img src=x onerror=alert(1)>`;
      }),
    );
    const noRoute = await post(statusChange(ticket, "open", `<b>closed</b>`));
    await Promise.all([settled(receipt), settled(noRoute)]);

    for (const path of [
      `/console/events/${receipt}`,
      `/console/events/${noRoute}`,
      "/console/events",
      `/console/tickets/${ticket}`,
    ]) {
      const html = await page(path);
      expect(html, path).not.toContain("<script>alert");
      expect(html, path).not.toContain("<img src=x");
      expect(html, path).not.toContain("<b>closed</b>");
      expect(html, path).not.toContain("<b>");
    }
    const story = await page(`/console/events/${receipt}`);
    expect(story).toContain("&#60;script&#62;alert(1)&#60;/script&#62;");
    expect(story).toContain("&#60;img src=x onerror=alert(1)&#62;");
  });

  it("says the history is off, and how to turn it on, when it is", async () => {
    await relay.close();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
admin: { token: "${token}" }
history: { enabled: false }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
`);
    const login = await fetch(`${relay.url}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual",
    });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
    for (const path of ["/console/events", "/console/events/0190-any", "/console/tickets/1"]) {
      expect(await page(path), path).toContain("Set <code>history.enabled: true</code>");
    }
  });
});
