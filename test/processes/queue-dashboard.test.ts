import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Queue } from "bullmq";
import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DeliveryJob } from "../../src/queue/jobs.js";
import { openDeliveryQueue } from "../../src/queue/queues.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);
const token = "admin-token-0f3c7a92";
const chromiumPath = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const basic = (password: string) => `Basic ${Buffer.from(`ops:${password}`).toString("base64")}`;

/**
 * bull-board under /admin/queues, in a real headless Chromium, over a real relay whose
 * delivery to a local endpoint answering 404 became a dead letter.
 */
describe("the queue dashboard", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let queue: Queue<DeliveryJob>;
  let browser: Browser;
  let deadLetterId: string;

  const startRelay = (admin: string) => {
    const prefix = uniquePrefix();
    return {
      prefix,
      relay: startTestRelay(
        `
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
${admin}
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: t0ken } }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - { name: everything-to-crm, to: [crm] }
`,
        { env: { RELAY_ADMIN_TOKEN: token } },
      ),
    };
  };

  beforeAll(async () => {
    [sink, browser] = await Promise.all([startHttpSink(), chromium.launch({ executablePath: chromiumPath })]);
    const started = startRelay(`admin: { token: "\${RELAY_ADMIN_TOKEN}" }`);
    relay = await started.relay;
    queue = openDeliveryQueue({ url: redis.url, prefix: started.prefix });
    sink.respondWith({ status: 404 });
    await fetch(`${relay.url}/webhooks/socialboards?token=t0ken`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange,
    });
    const [failed] = await waitFor(async () => {
      const jobs = await queue.getFailed();
      return jobs.length === 1 ? jobs : undefined;
    });
    deadLetterId = failed?.id ?? "";
  });

  afterAll(async () => {
    await browser?.close();
    await relay?.close();
    await queue?.close();
    await sink?.close();
  });

  it("shows the dead letter to a browser that logs in with the admin token", async () => {
    // What the browser's own login prompt sends: any user name, the token as the password.
    const context = await browser.newContext({ httpCredentials: { username: "ops", password: token } });
    const page = await context.newPage();
    // The page asks for a web font from Google; the test stays offline.
    await page.route(/^https?:\/\/(?!127\.0\.0\.1)/, (route) => route.abort());
    const answers: { url: string; status: number }[] = [];
    page.on("response", (response) => answers.push({ url: response.url(), status: response.status() }));
    const opened = await page.goto(`${relay.url}/admin/queues/queue/delivery?status=failed`);
    expect(opened?.status()).toBe(200);

    await page.getByText(deadLetterId).first().waitFor({ timeout: 10_000 });
    await expect.poll(() => page.textContent("body")).toContain("answered 404");
    const screenshot = join(mkdtempSync(join(tmpdir(), "relay-dashboard-")), "dead-letter.png");
    await page.screenshot({ path: screenshot, fullPage: true });
    expect(statSync(screenshot).size).toBeGreaterThan(1000);

    // The page, its scripts and styles, and the API it reads all came through the same check.
    const ours = answers.filter((answer) => answer.url.startsWith(`${relay.url}/admin/queues`));
    expect(ours.map((answer) => new URL(answer.url).pathname)).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^\/admin\/queues\/static\/js\//),
        expect.stringMatching(/^\/admin\/queues\/static\/css\//),
        expect.stringMatching(/^\/admin\/queues\/api\/queues/),
      ]),
    );
    expect(ours.filter((answer) => answer.status >= 400)).toEqual([]);
    await context.close();
  });

  it("answers 401 with a Basic challenge to a browser without the token", async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const answered = page.waitForResponse(`${relay.url}/admin/queues`);
    // Headless, nobody types into the login prompt: the browser gives up on the page.
    await expect(page.goto(`${relay.url}/admin/queues`)).rejects.toThrow(/ERR_INVALID_AUTH_CREDENTIALS/);
    const challenge = await answered;
    expect(challenge.status()).toBe(401);
    expect(await challenge.headerValue("www-authenticate")).toBe('Basic realm="ticket-relay"');
    await context.close();
  });

  it("guards the page, its static files and its API alike; takes Bearer or Basic", async () => {
    const paths = [
      "/admin/queues",
      "/admin/queues/",
      "/admin/queues/queue/delivery",
      "/admin/queues/static/images/logo.svg",
      "/admin/queues/api/queues",
      `/admin/queues/api/queues/delivery/${deadLetterId}`,
    ];
    for (const path of paths) {
      for (const authorization of [undefined, "", `Bearer ${token}x`, basic(`${token}x`), basic(""), "Basic !!"]) {
        const refused = await fetch(`${relay.url}${path}`, {
          headers: authorization === undefined ? {} : { authorization },
        });
        expect(refused.status, `${path} with ${authorization}`).toBe(401);
        expect(refused.headers.get("www-authenticate")).toBe('Basic realm="ticket-relay"');
      }
      for (const authorization of [`Bearer ${token}`, basic(token)]) {
        const allowed = await fetch(`${relay.url}${path}`, { headers: { authorization } });
        expect(allowed.status, `${path} with ${authorization}`).toBe(200);
      }
    }
    // Someone who can open the dashboard still cannot retry or delete from it: dead letters are
    // replayed with `dlq replay` or POST /admin/dlq/replay, which keep the relay's count of tries.
    const retry = await fetch(`${relay.url}/admin/queues/api/queues/delivery/${deadLetterId}/retry`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(retry.status).toBe(405);
    expect(await queue.getFailedCount()).toBe(1);
  });

  it("is off, and answers 404, without admin.token", async () => {
    const started = startRelay("");
    const off = await started.relay;
    try {
      for (const path of ["/admin/queues", "/admin/queues/static/images/logo.svg", "/admin/queues/api/queues"]) {
        const response = await fetch(`${off.url}${path}`, { headers: { authorization: basic(token) } });
        expect(response.status, path).toBe(404);
        expect(await response.json()).toEqual({ error: "not found" });
      }
    } finally {
      await off.close();
    }
  });
});
