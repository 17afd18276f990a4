import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import type { WebhookStory } from "../../src/history/story.js";
import { storyWhen } from "../support/history.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { type SlackApiServer, slackChannelId, slackWorkspaceUrl, startSlackApi } from "../support/slack-api.js";
import { statusChange, ticketCreation } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";

const token = "console-browser-token-5e2b9d";
const slackToken = "xoxb-console-browser";
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/** What a browser did that the console promises it never does: each fails the test it happened in. */
interface Misdeeds {
  /** Requests to any host but the relay's, aborted before they left. */
  foreign: string[];
  /** The browser's reports of something the Content-Security-Policy refused. */
  refusedByCsp: string[];
  /** Uncaught errors of the console's own script. */
  scriptErrors: string[];
}

/**
 * The console in a real headless Chromium, used as a support lead would use it (clicks, typing,
 * the keyboard), over one relay in this process that delivers for real to the Slack stand-in
 * and an HTTP endpoint. Every request the browser makes is checked: one to any host but the
 * relay's fails the test, as does any refusal the Content-Security-Policy reports.
 */
describe("the console in a browser", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let sink: HttpSink;
  let relay: TestRelay;
  let reader: HistoryReader;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  const misdeeds: Misdeeds = { foreign: [], refusedByCsp: [], scriptErrors: [] };

  beforeAll(async () => {
    [slack, sink, browser] = await Promise.all([
      startSlackApi({ token: slackToken, channels: ["#support"] }),
      startHttpSink(),
      chromium.launch({ executablePath: chromiumPath }),
    ]);
    const prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
admin: { token: "${token}" }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  support-slack: { type: slack, token: "${slackToken}", channel: "#support", apiUrl: "${slack.url}", thread: true, pace: 0 }
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
routes:
  - name: tickets-to-slack
    match: { event: [ticket_creation, reply_creation] }
    to: [support-slack, crm]
  - name: pending-to-crm
    match: { event: ticket_status_change, previousStatus: open, status: pending }
    to: [crm]
`);
    reader = new HistoryReader(redis.client, historyKeys(prefix));
  });

  afterEach(async () => {
    await Promise.all(contexts.splice(0).map((context) => context.close()));
    await waitForQuietQueues(relay.config.redis);
    sink.reset();
    slack.reset();
    const seen = { ...misdeeds };
    misdeeds.foreign = [];
    misdeeds.refusedByCsp = [];
    misdeeds.scriptErrors = [];
    expect(seen).toEqual({ foreign: [], refusedByCsp: [], scriptErrors: [] });
  });

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await Promise.all([slack?.close(), sink?.close()]);
  });

  /**
   * A new browser profile (no cookie) with a tab open; every request it makes to another host
   * is recorded and aborted. With `loggedIn`, it has logged in through the login form.
   */
  async function openBrowser(options: { loggedIn?: boolean } = {}): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    contexts.push(context);
    // What a page shows, it shows at once: a wait this long means it is not there.
    context.setDefaultTimeout(5_000);
    const relayHost = new URL(relay.url).host;
    await context.route("**/*", (route) => {
      const url = new URL(route.request().url());
      if (url.protocol === "about:" || url.protocol === "data:" || url.host === relayHost) return route.continue();
      misdeeds.foreign.push(url.href);
      return route.abort("blockedbyclient");
    });
    // Injected by the browser's debugging protocol, which the page's CSP does not cover. As
    // text: it runs in the page, whose types (the DOM) this project does not compile against.
    await context.addInitScript(`document.addEventListener("securitypolicyviolation", (event) =>
      console.error("CSP violation: " + event.violatedDirective + " " + event.blockedURI));`);
    const page = await context.newPage();
    page.on("console", (message) => {
      if (message.type() === "error" && /Content Security Policy|CSP violation/i.test(message.text())) {
        misdeeds.refusedByCsp.push(message.text());
      }
    });
    page.on("pageerror", (error) => misdeeds.scriptErrors.push(error.message));
    if (options.loggedIn) {
      await page.goto(`${relay.url}/console/login`);
      await page.getByLabel("Admin token").fill(token);
      await page.getByRole("button", { name: "Log in" }).click();
      await page.waitForURL(`${relay.url}/console`);
    }
    return { context, page };
  }

  /** Goes to a page by the navigation's link, as a reader would. */
  async function navigateTo(page: Page, label: string): Promise<void> {
    await page.getByRole("navigation", { name: "Console" }).getByRole("link", { name: label, exact: true }).click();
    await page.getByRole("heading", { level: 1, name: label }).waitFor();
  }

  async function post(body: unknown): Promise<string> {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }

  const everyDeliveryIn = (state: string) => (story: WebhookStory) =>
    story.deliveries.length > 0 && story.deliveries.every((delivery) => delivery.state === state);

  const notice = (page: Page) => page.getByRole("status").textContent();

  it("refuses a wrong token: the login page says so and no session starts", async () => {
    const { context, page } = await openBrowser();
    await page.goto(`${relay.url}/console`);
    expect(new URL(page.url()).pathname).toBe("/console/login");

    const answered = page.waitForResponse(
      (response) => response.request().method() === "POST" && response.url() === `${relay.url}/console/login`,
    );
    await page.getByLabel("Admin token").fill(`${token}-wrong`);
    await page.getByRole("button", { name: "Log in" }).click();
    expect((await answered).status()).toBe(401);
    expect(await page.getByRole("alert").textContent()).toBe("That is not the admin token.");
    expect(await context.cookies()).toEqual([]);

    await page.goto(`${relay.url}/console/events`);
    expect(new URL(page.url()).pathname).toBe("/console/login");
  });

  it("logs in with the keyboard alone, and Tab reaches the navigation", async () => {
    const { context, page } = await openBrowser();
    await page.goto(`${relay.url}/console`);
    // The token field has the focus as the page opens; Enter submits the form.
    expect(await page.locator(":focus").getAttribute("id")).toBe("token");
    await page.keyboard.type(token);
    await page.keyboard.press("Enter");
    await page.waitForURL(`${relay.url}/console`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Overview");
    const [cookie] = await context.cookies();
    expect(cookie).toMatchObject({ name: "relay_console", httpOnly: true, sameSite: "Strict", path: "/console" });

    const focused: string[] = [];
    for (let i = 0; i < 7; i += 1) {
      await page.keyboard.press("Tab");
      focused.push(((await page.locator(":focus").textContent()) ?? "").trim());
    }
    expect(focused).toEqual(["ticket-relay", "Overview", "Events", "Dead letters", "Mutes", "Route tester", "Config"]);
    // Back to Events, and open it with Enter.
    for (let i = 0; i < 4; i += 1) await page.keyboard.press("Shift+Tab");
    await page.keyboard.press("Enter");
    await page.waitForURL(`${relay.url}/console/events`);
    expect(await page.getByRole("heading", { level: 1 }).textContent()).toBe("Events");
  });

  it("shows a card for each target on the overview", async () => {
    const { page } = await openBrowser({ loggedIn: true });
    const cards = page.locator("article.card.target");
    expect(await cards.evaluateAll((all) => all.map((card) => card.id))).toEqual([
      "target-support-slack",
      "target-crm",
    ]);
    expect(
      await page
        .getByRole("article", { name: /^support-slack/ })
        .getByRole("heading")
        .textContent(),
    ).toContain("slack");
    expect(await page.getByRole("article", { name: /^crm/ }).getByRole("heading").textContent()).toContain("http");
    expect(await page.locator("table.sources").getByRole("rowheader").allTextContents()).toEqual(["socialboards"]);
  });

  it("holds a delivery while a mute made on the Mutes page lasts, and sends it when the mute is ended", async () => {
    const { page } = await openBrowser({ loggedIn: true });
    await navigateTo(page, "Mutes");
    await page.getByLabel("Target or route").selectOption("target:crm");
    await page.getByLabel("Reason").fill("CRM maintenance until 14:00");
    await page.getByRole("button", { name: "Mute", exact: true }).click();
    await page.waitForURL(/\/console\/mutes\?done=/);
    expect(await notice(page)).toBe("muted target crm for 1h; its deliveries are held, and sent when it ends");
    // This test comes before any delivery of the file: no worker holds the mutes in its cache
    // (Mutes.cacheMs) yet, so the first delivery reads them, this mute included.

    const receipt = await post(statusChange(7300001, "open", "pending"));
    const held = await storyWhen(reader, receipt, everyDeliveryIn("held"));
    expect(sink.requests).toEqual([]);
    await page.reload();
    const row = page.getByRole("row", { name: /target crm/ });
    expect(await row.textContent()).toMatch(/CRM maintenance until 14:00[\s\S]*1 held/);

    await row.getByRole("button", { name: "End mute of target crm" }).click();
    await page.waitForURL(/\/console\/mutes\?done=/);
    expect(await notice(page)).toBe("ended the mute of target crm: 1 held delivery sent now");
    const [released] = await sink.waitForRequests(1);
    expect(released?.json).toMatchObject({ deliveryId: held.deliveries[0]?.id });
    await storyWhen(reader, receipt, everyDeliveryIn("delivered"));
    expect(await page.getByText("Nothing is muted.").isVisible()).toBe(true);
  });

  it("shows a delivered webhook's try with its latency and HTTP status, and the link to its Slack message", async () => {
    const receipt = await post(ticketCreation(7100001));
    await storyWhen(reader, receipt, everyDeliveryIn("delivered"));
    const [message] = slack.posts;
    const { page } = await openBrowser({ loggedIn: true });

    await navigateTo(page, "Events");
    await page.getByRole("link", { name: `Webhook ${receipt}` }).click();
    await page.getByRole("heading", { level: 1, name: `Webhook ${receipt}` }).waitFor();

    const crm = page.getByRole("region", { name: "Delivery to crm" });
    expect(await crm.getByRole("heading").textContent()).toMatch(/crm\s+delivered/);
    const attempt = (await crm.getByRole("listitem").textContent()) ?? "";
    expect(attempt).toMatch(/^\d\d:\d\d:\d\d\.\d{3}Z \+\d+\.\d{3}s\s+delivered on try 1 in \d+ ms: HTTP 200$/);

    const slackDelivery = page.getByRole("region", { name: "Delivery to support-slack" });
    const link = slackDelivery.getByRole("link", { name: "Slack message" });
    const permalink = `${slackWorkspaceUrl}archives/${slackChannelId}/p${message?.ts.replace(".", "")}`;
    expect(permalink).toMatch(/^https:\/\/relay-test\.slack\.com\/archives\//);
    expect(await link.getAttribute("href")).toBe(permalink);
    expect(await slackDelivery.getByRole("listitem").textContent()).toMatch(/delivered on try 1 in \d+ ms: Slack/);
  });

  it("replays a dead letter with the button on the Dead letters page, and it reaches the target", async () => {
    sink.respondWith({ status: 400, body: '{"error":"unknown field Priority"}' });
    const receipt = await post(statusChange(7200001, "open", "pending"));
    const dead = await storyWhen(reader, receipt, everyDeliveryIn("dead"));
    const deliveryId = dead.deliveries[0]?.id ?? "";
    expect(sink.requests).toHaveLength(1);
    const { page } = await openBrowser({ loggedIn: true });

    await navigateTo(page, "Dead letters");
    expect(await page.locator("#dead-letter-count").textContent()).toBe("1 dead letter");
    const row = page.getByRole("row", { name: new RegExp(deliveryId.replaceAll(".", "\\.")) });
    expect(await row.textContent()).toContain("answered 400");
    await page.getByLabel(`Select ${deliveryId}`).check();
    await page.getByRole("button", { name: "Replay selected" }).click();
    await page.waitForURL(/\/console\/dead-letters\?done=/);
    expect(await notice(page)).toBe("replayed 1 dead letter");

    const [, replayed] = await sink.waitForRequests(2);
    expect(replayed?.json).toMatchObject({ deliveryId, event: { previousStatus: "open", status: "pending" } });
    await storyWhen(reader, receipt, everyDeliveryIn("delivered"));
    await page.reload();
    expect(await page.locator("#dead-letter-count").textContent()).toBe("0 dead letters");
  });

  it("shows in the route tester which condition kept a route from matching, sending nothing", async () => {
    const { page } = await openBrowser({ loggedIn: true });
    await navigateTo(page, "Route tester");
    await page.getByLabel("Webhook body (JSON)").fill(JSON.stringify(statusChange(7400001, "new", "pending"), null, 2));
    await page.getByRole("button", { name: "Route the body" }).click();
    const result = page.getByRole("region", { name: "What the relay would do" });
    await result.waitFor();

    const pendingToCrm = result.getByRole("row", { name: /^pending-to-crm/ });
    expect(await pendingToCrm.textContent()).toBe(`pending-to-crm✗ unmetpreviousStatus is "new", wanted "open"`);
    expect(await result.getByText("Targets:").locator("..").textContent()).toBe(
      "Targets: none: no target receives it.",
    );
    expect(sink.requests).toEqual([]);
    expect(slack.calls).toBe(0);
  });

  it("refuses with 403 a POST without the page's CSRF token", async () => {
    const { page } = await openBrowser({ loggedIn: true });
    await navigateTo(page, "Mutes");
    const statusOf = (body: string, path = "/console/mutes") =>
      page.evaluate(
        async ([path, body]) => {
          const answer = await fetch(path as string, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body,
          });
          return { status: answer.status, at: new URL(answer.url).pathname };
        },
        [path, body],
      );
    // The session's cookie goes with these (same origin); the page's token does not.
    expect(await statusOf("subject=target%3Acrm&for=1h")).toEqual({ status: 403, at: "/console/mutes" });
    expect(await statusOf("subject=target%3Acrm&for=1h&csrf=forged")).toEqual({ status: 403, at: "/console/mutes" });
    await page.reload();
    expect(await page.getByText("Nothing is muted.").isVisible()).toBe(true);

    // The same request with the page's token is taken: log out, which ends on the login page.
    const csrf = await page.locator("form[action='/console/logout'] input[name=csrf]").inputValue();
    expect(await statusOf("", "/console/logout")).toEqual({ status: 403, at: "/console/logout" });
    expect(await statusOf(`csrf=${encodeURIComponent(csrf)}`, "/console/logout")).toEqual({
      status: 200,
      at: "/console/login",
    });
  });

  it("loads every page from the relay's origin alone, each sent with a CSP of default-src 'self'", async () => {
    const receipt = await post(ticketCreation(7500001));
    await storyWhen(reader, receipt, everyDeliveryIn("delivered"));
    const { context, page } = await openBrowser({ loggedIn: true });
    const requested: string[] = [];
    context.on("request", (request) => requested.push(request.url()));

    const paths = [
      "/console",
      "/console/events",
      `/console/events/${receipt}`,
      "/console/tickets/7500001",
      "/console/dead-letters",
      "/console/mutes",
      "/console/route-tester",
      "/console/config",
    ];
    for (const path of paths) {
      const answer = await page.goto(`${relay.url}${path}`);
      expect(answer?.status(), path).toBe(200);
      expect(answer?.headers()["content-security-policy"], path).toContain("default-src 'self'");
      expect(answer?.headers()["content-security-policy"], path).toContain("script-src 'self'");
    }
    // A sample routed: the Slack message drawn as Slack shows it, from the relay's stylesheet alone.
    await navigateTo(page, "Route tester");
    await page.getByLabel("Sample event type").selectOption({ label: "ticket_creation" });
    await page.getByRole("button", { name: "Route the sample" }).click();
    await page.getByRole("region", { name: "What the relay would do" }).waitFor();

    const hosts = new Set(requested.map((url) => new URL(url).host));
    expect([...hosts]).toEqual([new URL(relay.url).host]);
    const assets = requested.map((url) => new URL(url).pathname).filter((path) => path.startsWith("/console/assets/"));
    expect(new Set(assets)).toEqual(new Set(["/console/assets/console.css", "/console/assets/console.js"]));
  });
});
