import { readFileSync } from "node:fs";
import { afterEach, describe, expect, it } from "vitest";
import { DisabledTargets } from "../../src/queue/disabled-targets.js";
import { Mutes } from "../../src/queue/mutes.js";
import { relayKeys } from "../../src/queue/queues.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";

import { useRedis } from "../support/use-redis.js";
import { useTargetServers } from "../support/use-target-servers.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);
const token = "overview-token-7c2e";
const slackToken = "xoxb-overview-test";

/**
 * The console's overview, read over HTTP from a relay that delivers for real (to the Slack
 * stand-in and an HTTP endpoint): each target's counts, last error, mute and disable with their
 * buttons, the queues, and each source's accepted and refused requests.
 */
describe("the console's overview", () => {
  const redis = useRedis();
  const targets = useTargetServers(slackToken);
  let relay: TestRelay;
  let cookie: string;

  afterEach(async () => {
    await relay?.close();
    targets.slack.reset();
    targets.sink.reset();
  });

  async function start(extra = ""): Promise<void> {
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
admin: { token: "${token}" }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: u }
targets:
  support-slack: { type: slack, token: "${slackToken}", channel: "#support", apiUrl: "${targets.slack.url}", pace: 0 }
  crm: { type: http, url: "${targets.sink.url}/hooks", timeout: 2s }
retry: { attempts: 3, backoff: fixed, delay: 50ms }
routes:
  - { name: everything, to: [support-slack, crm] }
${extra}
`);
    const login = await fetch(`${relay.url}/console/login`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual",
    });
    cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  }

  async function postWebhook(body: string, urlToken = "u"): Promise<number> {
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=${urlToken}`, { method: "POST", body });
    await answer.body?.cancel();
    return answer.status;
  }

  async function overview(): Promise<string> {
    const answer = await fetch(`${relay.url}/console`, { headers: { cookie } });
    expect(answer.status).toBe(200);
    return answer.text();
  }

  /** The overview once `settled` holds of it: the history writes its counts a moment after a delivery. */
  function overviewWhen(settled: (page: string) => boolean, what: string): Promise<string> {
    return waitFor(
      async () => {
        const page = await overview();
        return settled(page) ? page : undefined;
      },
      { what },
    );
  }

  const csrfOf = (page: string) => /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";

  it("shows each target's type and deliveries of the last hour and day, with its success rate", async () => {
    await start();
    expect(await postWebhook(statusChange)).toBe(200);
    expect(await postWebhook(statusChange.replace('"TicketId": 4478963', '"TicketId": 4478964'))).toBe(200);
    await waitForQuietQueues(relay.config.redis);
    const page = await overviewWhen(
      (text) =>
        textOf(cardOf(text, "crm")).includes("Delivered 2 2") &&
        textOf(cardOf(text, "support-slack")).includes("Delivered 2 2"),
      "both targets' two deliveries",
    );
    for (const [target, type] of [
      ["support-slack", "slack"],
      ["crm", "http"],
    ] as const) {
      const card = textOf(cardOf(page, target));
      expect(card).toContain(`${target} ${type}`);
      expect(card).toContain("Failed tries 0 0");
      expect(card).toContain("Dead letters 0 0");
      expect(card).toContain("Success rate (last day): 100%");
      expect(card).toContain("No error recorded.");
    }
    expect(textOf(page)).toContain("Deliveries queued: 0");
    expect(page).toContain('<th scope="row">Deliveries to send</th>');
  });

  it("shows a 503 then 200 as a failed try beside the delivery, and the 503 as the last error with when", async () => {
    await start();
    targets.sink.respondWith({ status: 503, body: "busy, come back later" });
    expect(await postWebhook(statusChange)).toBe(200);
    await waitForQuietQueues(relay.config.redis);
    const page = await overviewWhen(
      (text) => textOf(cardOf(text, "crm")).includes("Delivered 1 1"),
      "crm's delivery after its retry",
    );
    const card = cardOf(page, "crm");
    expect(textOf(card)).toContain("Failed tries 1 1");
    // A try that failed and was then delivered is no loss.
    expect(textOf(card)).toContain("Success rate (last day): 100%");
    expect(textOf(card)).toMatch(/Last error \S+ \(\d+s ago\): .*503/);
    expect(card).toMatch(/<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">/);
  });

  it("shows a target disabled by a 410 Gone with Enable, and the button enables it", async () => {
    await start();
    targets.sink.respondWith({ status: 410, body: "this hook was deleted" });
    expect(await postWebhook(statusChange)).toBe(200);
    await waitForQuietQueues(relay.config.redis);
    const page = await overviewWhen(
      (text) => textOf(cardOf(text, "crm")).includes("Dead letters 1 1"),
      "crm's dead letter",
    );
    const card = cardOf(page, "crm");
    expect(textOf(card)).toContain("disabled");
    expect(textOf(card)).toContain("Success rate (last day): 0%");
    expect(card).toContain('action="/console/targets/crm/enable"');
    expect(card).toMatch(/<button type="submit"[^>]*>Enable<\/button>/);
    expect(cardOf(page, "support-slack")).not.toContain("Enable");

    const enable = (form: Record<string, string>) =>
      fetch(`${relay.url}/console/targets/crm/enable`, {
        method: "POST",
        headers: { cookie, "content-type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams(form).toString(),
        redirect: "manual",
      });
    expect((await enable({})).status).toBe(403);
    const disabled = new DisabledTargets(redis.client, relayKeys(relay.config.redis.prefix));
    expect([...(await disabled.list()).keys()]).toEqual(["crm"]);

    const answer = await enable({ csrf: csrfOf(page) });
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toMatch(/^\/console\?done=Target%20crm%20enabled/);
    expect(await disabled.list()).toEqual(new Map());
    expect(relay.logs.join("")).toContain("target enabled from the console");
    const after = await overview();
    expect(cardOf(after, "crm")).not.toContain("Enable");
    expect(textOf(cardOf(after, "crm"))).not.toContain("disabled");
  });

  it("shows a muted target until when and why with Unmute, its held delivery in the queue, and a route's mute", async () => {
    await start();
    const mutes = new Mutes(redis.client, relayKeys(relay.config.redis.prefix));
    await mutes.mute({ kind: "target", name: "crm" }, { forMs: 3_600_000, reason: "CRM <maintenance>" });
    await mutes.mute({ kind: "route", name: "nightly" }, { forMs: 600_000, reason: "gone quiet" });
    expect(await postWebhook(statusChange)).toBe(200);
    const page = await overviewWhen(
      (text) => textOf(cardOf(text, "crm")).includes("Held 1 1") && textOf(text).includes("Deliveries queued: 1"),
      "crm's held delivery",
    );
    const card = cardOf(page, "crm");
    expect(textOf(card)).toMatch(/Muted until \S+ \(in 59m\d+s\): CRM <maintenance> \(1 held\)\./);
    // Received text is escaped.
    expect(card).toContain("CRM &#60;maintenance&#62;");
    expect(card).toContain('action="/console/mutes/end"');
    expect(card).toContain('name="kind" value="target"');
    expect(card).toContain('name="name" value="crm"');
    expect(card).toMatch(/<button type="submit"[^>]*>Unmute<\/button>/);
    expect(cardOf(page, "support-slack")).not.toContain("Unmute");
    // The route's mute is listed with its own button.
    const others = page.slice(page.indexOf('id="other-mutes"'));
    expect(textOf(others)).toContain("route nightly Muted until");
    expect(others).toContain('name="name" value="nightly"');
    expect(targets.sink.requests).toHaveLength(0);
  });

  it("counts a source's accepted and refused requests of the last hour, with the last refusal's reason", async () => {
    await start();
    expect(await postWebhook(statusChange)).toBe(200);
    expect(await postWebhook(statusChange.replace('"TicketId": 4478963', '"TicketId": 4478964'))).toBe(200);
    expect(await postWebhook(statusChange, "wrong-token")).toBe(401);
    await waitForQuietQueues(relay.config.redis);
    const page = await overviewWhen(
      (text) => /socialboards socialboards 2 1 /.test(textOf(sourcesOf(text))),
      "two accepted and one refused",
    );
    expect(textOf(sourcesOf(page))).toMatch(
      /socialboards socialboards 2 1 \S+ \(\d+s ago\): 401 urlToken does not match \(\?token=… in the URL\)/,
    );
    // A path that names no source shows as its own row.
    const unknown = await fetch(`${relay.url}/webhooks/no-such-source`, { method: "POST", body: "{}" });
    expect(unknown.status).toBe(404);
    const withUnknown = await overviewWhen(
      (text) => textOf(sourcesOf(text)).includes("no such source"),
      "the unknown source",
    );
    expect(textOf(sourcesOf(withUnknown))).toMatch(/no such source — 0 1 /);
  });

  it("with the history off, shows the targets' state and the queues, and says the history is off", async () => {
    await start("history: { enabled: false }");
    const mutes = new Mutes(redis.client, relayKeys(relay.config.redis.prefix));
    await mutes.mute({ kind: "target", name: "support-slack" }, { forMs: 3_600_000, reason: "quiet hours" });
    const page = await overview();
    expect(textOf(page)).toContain("The history is off (history.enabled: false in the config)");
    expect(textOf(cardOf(page, "crm"))).toContain("crm http");
    expect(cardOf(page, "crm")).not.toContain("Delivered");
    expect(textOf(cardOf(page, "support-slack"))).toContain("quiet hours");
    expect(cardOf(page, "support-slack")).toContain(">Unmute</button>");
    expect(textOf(page)).toContain("Deliveries queued: 0");
    expect(textOf(page)).toContain("The history is off: no counts per source.");
  });
});

/** One target's card on the overview. */
function cardOf(page: string, target: string): string {
  const start = page.indexOf(`<article class="card target" id="target-${target}"`);
  expect(start, `a card for ${target}`).toBeGreaterThanOrEqual(0);
  return page.slice(start, page.indexOf("</article>", start));
}

function sourcesOf(page: string): string {
  return page.slice(page.indexOf('<table class="sources">'));
}

/** A fragment's text as a reader sees it: no tags, entities read, one space between words. */
function textOf(fragment: string): string {
  return fragment
    .replace(/<[^>]+>/g, " ")
    .replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replace(/\s+/g, " ")
    .replace(/ ([.,:)])/g, "$1")
    .replace(/\( /g, "(")
    .trim();
}
