import { readFileSync } from "node:fs";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../src/log.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { type SlackApiServer, startSlackApi } from "./support/slack-api.js";
import { type SmtpServer, startSmtpServer } from "./support/smtp.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const secrets = {
  SONAR_URL_TOKEN: "url-token-3f9a61c2",
  SLACK_TOKEN: "fake-slack-token-51c2d7e8",
  ADMIN_TOKEN: "admin-token-8e4d2b07",
  CRM_KEY: "crm-api-key-a91f0c33",
  CRM_SIGNING_SECRET: `whsec_${Buffer.from("the crm's 32-byte signing key!!!").toString("base64")}`,
};
const customer = {
  email: "mira.kowalski@example.org",
  phone: "+15555550177",
  text: "My parrot Quintus swallowed the spare key to flat 4B",
};
const sonarMessage = {
  ...JSON.parse(readFileSync(new URL("fixtures/sonar/new_assigned_message.json", import.meta.url), "utf8")),
  text: customer.text,
  customer: { first_name: "Mira", last_name: "Kowalski", phone_number: customer.phone, email: customer.email },
};

interface LogLine {
  msg: string;
  receiptId?: string;
  deliveryId?: string;
  target?: string;
  path?: string;
  status?: number;
}

/**
 * The logs of one webhook's whole way, through a real relay: Slack stand-in, SMTP, HTTP
 * endpoints (one failing once, one refusing for good), the admin API and the dashboard.
 */
describe("the logs", () => {
  const redis = useRedis();
  let slack: SlackApiServer;
  let smtp: SmtpServer;
  let crm: HttpSink;
  let archive: HttpSink;
  let relay: TestRelay;

  beforeAll(async () => {
    [slack, smtp, crm, archive] = await Promise.all([
      startSlackApi({ token: secrets.SLACK_TOKEN }),
      startSmtpServer(),
      startHttpSink(),
      startHttpSink(),
    ]);
  });

  afterAll(async () => {
    await relay?.close();
    await Promise.all([slack?.close(), smtp?.close(), crm?.close(), archive?.close()]);
  });

  it("follow one webhook by its receipt id, and hold no token, secret, email, phone number or message text", async () => {
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
admin: { token: "\${ADMIN_TOKEN}" }
sources:
  sonar: { type: sonar, urlToken: "\${SONAR_URL_TOKEN}" }
targets:
  support-slack: { type: slack, token: "\${SLACK_TOKEN}", channel: "#support", apiUrl: "${slack.url}" }
  oncall-email: { type: email, smtp: "${smtp.url}", from: "Relay <relay@example.com>", to: [oncall@example.com] }
  crm:
    type: http
    url: "${crm.url}/hooks"
    headers: { Authorization: "Bearer \${CRM_KEY}" }
    signingSecret: "\${CRM_SIGNING_SECRET}"
    retry: { attempts: 3, backoff: fixed, delay: 50ms }
  archive: { type: http, url: "${archive.url}/archive" }
routes:
  - { name: everything, to: [support-slack, oncall-email, crm, archive] }
`,
      { env: secrets },
    );
    crm.respondWith({ status: 503, body: "busy" });
    archive.respondWith({ status: 404 });

    const accepted = await fetch(`${relay.url}/webhooks/sonar?token=${secrets.SONAR_URL_TOKEN}`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(sonarMessage),
    });
    const { receipt } = (await accepted.json()) as { receipt: string };
    await Promise.all([slack.waitForPosts(1), smtp.waitForMessages(1), crm.waitForRequests(2)]);
    const lines = () => relay.logs.map((line) => JSON.parse(line) as LogLine);
    const ofReceipt = await waitFor(
      () => {
        const found = lines().filter((line) => line.receiptId === receipt);
        const delivered = found.filter((line) => line.msg === "delivered");
        const deadLetter = found.some((line) => line.msg === "delivery is a dead letter");
        return delivered.length === 3 && deadLetter ? found : undefined;
      },
      { what: "three deliveries and a dead letter in the logs" },
    );
    // The admin API and the dashboard, with their token, are logged too (by path alone).
    const admin = { authorization: `Bearer ${secrets.ADMIN_TOKEN}` };
    expect((await fetch(`${relay.url}/admin/dlq`, { headers: admin })).status).toBe(200);
    const basic = `Basic ${Buffer.from(`ops:${secrets.ADMIN_TOKEN}`).toString("base64")}`;
    expect((await fetch(`${relay.url}/admin/queues`, { headers: { authorization: basic } })).status).toBe(200);
    // A refusal is logged with the status its sender got, by path alone: the wrong token stays out.
    const refused = await fetch(`${relay.url}/webhooks/sonar?token=not-the-token`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
    });
    expect(refused.status).toBe(401);
    const refusedLine = await waitFor(() => lines().find((line) => line.msg === "request" && line.status === 401), {
      what: "the refusal's access-log line",
    });
    expect(refusedLine).toMatchObject({ method: "POST", path: "/webhooks/sonar" });
    expect(JSON.stringify(refusedLine)).not.toContain("not-the-token");

    // `grep <receipt id>` follows the webhook from ingest through routing to every target.
    expect(ofReceipt.find((line) => line.msg === "request")).toMatchObject({ path: "/webhooks/sonar" });
    expect(ofReceipt.map((line) => line.msg)).toContain("routed");
    const outcomes = ofReceipt
      .filter((line) => line.target !== undefined)
      .map((line) => `${line.target}: ${line.msg}`)
      .sort();
    expect(outcomes).toEqual([
      "archive: delivery is a dead letter",
      "crm: delivered",
      "crm: delivery failed; will retry",
      "oncall-email: delivered",
      "support-slack: delivered",
    ]);
    // Every line about one of its deliveries says which webhook it came from.
    for (const line of lines().filter((line) => line.deliveryId !== undefined)) {
      expect(line.receiptId, JSON.stringify(line)).toBe(receipt);
    }

    const everything = relay.logs.join("");
    for (const secret of [...Object.values(secrets), secrets.CRM_SIGNING_SECRET.slice("whsec_".length)]) {
      expect(everything).not.toContain(secret);
    }
    for (const data of [...Object.values(customer), "Quintus", "5555550177", "kowalski@"]) {
      expect(everything).not.toContain(data);
    }
  });

  it("redact the tokens, secrets and customer fields of anything logged by mistake", () => {
    const written: string[] = [];
    const logger = createLogger({
      destination: new Writable({
        write(chunk, _encoding, done) {
          written.push(String(chunk));
          done();
        },
      }),
    });
    const event = {
      author: { name: "Mira", email: customer.email },
      customer: { phone: customer.phone, email: customer.email },
      message: { kind: "reply", text: customer.text },
    };
    logger.info({ event }, "an event logged whole");
    logger.info({ message: event.message, author: event.author, text: customer.text }, "its parts");
    logger.info({ payload: sonarMessage, rawBody: JSON.stringify(sonarMessage) }, "a payload");
    logger.info({ email: customer.email, phone: customer.phone, password: "hunter2-pw" }, "top-level fields");
    logger.info(
      { headers: { authorization: `Bearer ${secrets.CRM_KEY}` }, target: { secret: secrets.CRM_SIGNING_SECRET } },
      "a request",
    );

    const everything = written.join("");
    for (const data of [...Object.values(customer), secrets.CRM_KEY, secrets.CRM_SIGNING_SECRET, "hunter2-pw"]) {
      expect(everything).not.toContain(data);
    }
    expect(everything).toContain('"kind":"reply"');
    expect(written).toHaveLength(5);
  });
});
