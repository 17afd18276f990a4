/**
 * The console's screenshots in docs/console/, drawn from a relay that did real work: a few
 * tickets with creations, replies and status changes delivered to the Slack stand-in, an HTTP
 * endpoint and an SMTP server; one delivery answered 503 and then 200, one dead letter (a 400),
 * one target muted with a delivery held, one webhook no route took, one request with a wrong
 * token. Everything runs on this machine (its own redis-server, the stand-ins of test/support),
 * and the browser is kept from any other host.
 *
 *   npx tsx scripts/console-screenshots.ts
 *
 * Needs redis-server and Chromium (`CHROMIUM_PATH`, default /usr/bin/chromium).
 */
import { mkdirSync, statSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { type Browser, chromium, type Page } from "playwright-core";
import { historyKeys } from "../src/history/history-keys.js";
import { HistoryReader } from "../src/history/history-reader.js";
import type { WebhookStory } from "../src/history/story.js";
import { Mutes } from "../src/queue/mutes.js";
import { storyWhen } from "../test/support/history.js";
import { type HttpSink, startHttpSink } from "../test/support/http-sink.js";
import { startRedisServer } from "../test/support/redis.js";
import { startTestRelay, type TestRelay } from "../test/support/relay.js";
import { type SlackApiServer, startSlackApi } from "../test/support/slack-api.js";
import { type SmtpServer, startSmtpServer } from "../test/support/smtp.js";
import { aboutTicket, replyCreation, statusChange, ticketCreation } from "../test/support/ticket-events.js";
import { waitFor } from "../test/support/wait.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const outDir = join(root, "docs", "console");
const token = "screenshot-admin-token";
const slackToken = "xoxb-screenshots";
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const laptop = { width: 1280, height: 800 };
const phone = { width: 390, height: 844 };
/** A long page is cut here: the top of a page says what it is about; a PNG stays small. */
const tallest = 1600;

interface Stage {
  relay: TestRelay;
  reader: HistoryReader;
  sink: HttpSink;
}

async function main(): Promise<void> {
  const redisServer = await startRedisServer();
  const redis = new Redis(redisServer.url);
  let slack: SlackApiServer | undefined;
  let sink: HttpSink | undefined;
  let smtp: SmtpServer | undefined;
  let relay: TestRelay | undefined;
  let browser: Browser | undefined;
  try {
    [slack, sink, smtp, browser] = await Promise.all([
      startSlackApi({ token: slackToken, channels: ["#support"] }),
      startHttpSink(),
      startSmtpServer(),
      chromium.launch({ executablePath: chromiumPath }),
    ]);
    const prefix = "screenshots";
    relay = await startTestRelay(`
redis: { url: "${redisServer.url}", prefix: ${prefix} }
allowPrivateNetwork: true
admin: { token: "${token}" }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  support-slack: { type: slack, token: "${slackToken}", channel: "#support", apiUrl: "${slack.url}", thread: true, pace: 0 }
  oncall-email: { type: email, smtp: "${smtp.url}", from: "Relay <relay@example.com>", to: oncall@example.com }
  crm: { type: http, url: "${sink.url}/hooks", timeout: 5s, retry: { attempts: 4, backoff: fixed, delay: 2s } }
routes:
  - name: urgent-to-oncall
    match: { event: ticket_creation, payload.Ticket.Title: { glob: "URGENT*" } }
    to: [oncall-email]
    continue: true
  - name: pending-to-crm
    match: { event: ticket_status_change, previousStatus: open, status: pending }
    to: [crm]
  - name: tickets-to-slack
    match: { event: [ticket_creation, reply_creation] }
    to: [support-slack, crm]
`);
    const stage = { relay, reader: new HistoryReader(redis, historyKeys(prefix)), sink };
    const page = await openConsole(browser, relay.url, laptop);
    await recordWork(stage, page);
    await shootPages(stage, page, browser);
  } finally {
    await browser?.close();
    await relay?.close();
    await Promise.all([slack?.close(), sink?.close(), smtp?.close()]);
    redis.disconnect();
    await redisServer.stop();
  }
}

/** The webhooks a support team's morning might bring, each waited on until its deliveries settle. */
async function recordWork(stage: Stage, page: Page): Promise<void> {
  const { sink } = stage;
  const titled = (ticket: number, title: string, message: string) =>
    aboutTicket("ticket_creation", ticket, (item) => {
      item.Ticket.Title = title;
      item.Ticket.Message = message;
      item.Ticket.HtmlMessage = message;
    });

  // The CRM is restarting: its first answer is a 503, the retry 2 s later goes through.
  sink.respondWith({ status: 503, body: "Service Unavailable: the CRM is restarting" });
  await settle(stage, ticketCreation(4478963), "delivered");
  await settle(stage, replyCreation(4478963, 1, "Thanks, Robert. Is Tom eating and drinking?"), "delivered");
  await settle(stage, replyCreation(4478963, 2, "He drinks a little, no food since yesterday."), "delivered");
  await settle(stage, statusChange(4478963, "open", "pending"), "delivered");

  await settle(
    stage,
    titled(4479012, "Refund for order #10482 not received", "Still no refund after 14 days."),
    "delivered",
  );
  await settle(
    stage,
    replyCreation(4479012, 3, "The refund left us on May 2nd; your bank shows it in 3–5 days."),
    "delivered",
  );
  // No route takes a ticket closed from new: the event page says why, route by route.
  await settle(stage, statusChange(4479012, "new", "closed"), "no-route");

  await settle(
    stage,
    titled(4479055, "Can't log in after password reset", "The reset link says it expired."),
    "delivered",
  );
  // The CRM refuses this one for good: a dead letter to replay once it is fixed.
  sink.respondWith({ status: 400, body: '{"error":"unknown field: previousStatus"}' });
  await settle(stage, statusChange(4479055, "open", "pending"), "dead");

  // The mail relay is down for maintenance: the on-call email is muted, its deliveries held.
  await page.goto(`${stage.relay.url}/console/mutes`);
  await page.getByLabel("Target or route").selectOption("target:oncall-email");
  await page.getByLabel("For", { exact: true }).selectOption("4h");
  await page.getByLabel("Reason").fill("SMTP relay maintenance until 14:00");
  await page.getByRole("button", { name: "Mute", exact: true }).click();
  await page.waitForURL(/done=/);
  // Every worker sees a new mute once its cache of them is older than Mutes.cacheMs.
  const mutedAt = Date.now();
  await waitFor(() => Date.now() - mutedAt > Mutes.cacheMs, { what: "every worker to see the mute" });
  await settle(stage, titled(4479101, "URGENT: checkout page returns 500", "Nobody can pay since 09:12."), "held");

  // A platform still posting with last month's token.
  await fetch(`${stage.relay.url}/webhooks/socialboards?token=old-token`, {
    method: "POST",
    body: JSON.stringify(ticketCreation(4479120)),
  });
}

/** Posts a webhook and waits until each of its deliveries is in `state` (or, for "no-route", none was made). */
async function settle(stage: Stage, body: unknown, state: string): Promise<WebhookStory> {
  const answer = await fetch(`${stage.relay.url}/webhooks/socialboards?token=u`, {
    method: "POST",
    body: JSON.stringify(body),
  });
  if (answer.status !== 200) throw new Error(`the relay answered ${answer.status}: ${await answer.text()}`);
  const { receipt } = (await answer.json()) as { receipt: string };
  const done = (story: WebhookStory) =>
    state === "no-route"
      ? story.noRoute
      : story.deliveries.some((delivery) => delivery.state === state) &&
        story.deliveries.every((delivery) => delivery.state === state || delivery.state === "delivered");
  return storyWhen(stage.reader, receipt, done);
}

async function shootPages(stage: Stage, page: Page, browser: Browser): Promise<void> {
  mkdirSync(outDir, { recursive: true });
  const { relay, reader } = stage;
  const { webhooks } = await reader.list({ ticket: "4478963", limit: 10 });
  const retried = webhooks.at(-1)?.webhook.id;
  if (!retried) throw new Error("the first webhook of ticket 4478963 is not in the history");

  await shoot(page, `${relay.url}/console`, "overview.png", { full: true });
  await shoot(page, `${relay.url}/console/events`, "events.png");
  await shoot(page, `${relay.url}/console/events/${retried}`, "event.png", { full: true });
  await shoot(page, `${relay.url}/console/tickets/4478963`, "ticket.png", { full: true });
  await shoot(page, `${relay.url}/console/dead-letters`, "dead-letters.png");
  await shoot(page, `${relay.url}/console/mutes`, "mutes.png");
  await page.goto(`${relay.url}/console/route-tester`);
  await page.getByLabel("Webhook body (JSON)").fill(JSON.stringify(ticketCreation(4479200), null, 2));
  await page.getByRole("button", { name: "Route the body" }).click();
  await page.getByRole("heading", { name: "What the relay would do" }).waitFor();
  await save(page, "route-tester.png", { full: true });
  await shoot(page, `${relay.url}/console/config`, "config.png");

  const phonePage = await openConsole(browser, relay.url, phone, 2);
  await shoot(phonePage, `${relay.url}/console`, "overview-phone.png");
}

/** A browser tab logged in to the console; any request to another host is refused and reported. */
async function openConsole(
  browser: Browser,
  relayUrl: string,
  viewport: { width: number; height: number },
  deviceScaleFactor = 1,
): Promise<Page> {
  const context = await browser.newContext({ viewport, deviceScaleFactor, colorScheme: "light" });
  const host = new URL(relayUrl).host;
  await context.route("**/*", (route) => {
    const url = new URL(route.request().url());
    if (url.host === host || url.protocol === "data:" || url.protocol === "about:") return route.continue();
    console.error(`refused a request to another host: ${url.href}`);
    return route.abort("blockedbyclient");
  });
  const page = await context.newPage();
  page.on("console", (message) => {
    if (message.type() === "error") console.error(`browser: ${message.text()}`);
  });
  await page.goto(`${relayUrl}/console/login`);
  await page.getByLabel("Admin token").fill(token);
  await page.getByRole("button", { name: "Log in" }).click();
  await page.waitForURL(`${relayUrl}/console`);
  return page;
}

async function shoot(page: Page, url: string, name: string, options: { full?: boolean } = {}): Promise<void> {
  const answer = await page.goto(url);
  if (answer?.status() !== 200) throw new Error(`${url} answered ${answer?.status()}`);
  await save(page, name, options);
}

/** The page as shown; `full`: the whole page down to `tallest` px. */
async function save(page: Page, name: string, { full = false }: { full?: boolean } = {}): Promise<void> {
  const path = join(outDir, name);
  if (full) {
    const height = Number(await page.evaluate("document.documentElement.scrollHeight"));
    const width = page.viewportSize()?.width ?? laptop.width;
    await page.screenshot({ path, fullPage: true, clip: { x: 0, y: 0, width, height: Math.min(height, tallest) } });
  } else {
    await page.screenshot({ path });
  }
  console.log(`${relative(root, path)}: ${Math.round(statSync(path).size / 1024)} KB`);
}

await main();
