import { createHmac, randomUUID } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { waitForQuietQueues } from "./support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";

// Secrets as the senders show them: Standard Webhooks' `whsec_` + base64, GitHub's plain text.
const standardSecret = `whsec_${Buffer.from("a 24-byte test secret!!!").toString("base64")}`;
const hubSecret = "hub-secret-9f2c";

/** Signs as a Standard Webhooks sender does (https://www.standardwebhooks.com). */
function standardHeaders(body: string, options: { id?: string; at?: number; secret?: string } = {}) {
  const id = options.id ?? `msg_${randomUUID()}`;
  const timestamp = String(Math.floor((options.at ?? Date.now()) / 1000));
  const key = Buffer.from((options.secret ?? standardSecret).replace(/^whsec_/, ""), "base64");
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

const hubHeaders = (body: string, secret = hubSecret) => ({
  "x-hub-signature-256": `sha256=${createHmac("sha256", secret).update(body).digest("hex")}`,
});

describe("a generic signed JSON source", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;

  beforeAll(async () => {
    sink = await startHttpSink();
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
sources:
  billing: { type: generic, signature: standard-webhooks, secret: "\${STANDARD_SECRET}", eventType: type, ticketId: data.ticket.id }
  github: { type: generic, signature: x-hub-signature-256, secret: "\${HUB_SECRET}", eventType: action }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
retry: { backoff: exponential, delay: 50ms }
routes:
  - match: { event: "invoice.*" }
    to: [crm]
  - match: { source: github }
    to: [crm]
  - match: { known: false }
    to: [crm]
`,
      { env: { STANDARD_SECRET: standardSecret, HUB_SECRET: hubSecret } },
    );
  });

  beforeEach(() => sink.reset());

  afterAll(async () => {
    await relay?.close();
    await sink?.close();
  });

  const post = (source: string, body: string, headers: Record<string, string>) =>
    fetch(`${relay.url}/webhooks/${source}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...headers },
      body,
    });
  const invoice = JSON.stringify({ type: "invoice.paid", data: { ticket: { id: 881 }, amount: 12.5 } });

  it("still wants Content-Type: application/json, as every signed-JSON sender sends it", async () => {
    const response = await post("billing", invoice, { ...standardHeaders(invoice), "content-type": "text/plain" });
    expect(response.status).toBe(415);
  });

  it("accepts a Standard Webhooks message and routes it by the type and ticket id at the configured paths", async () => {
    const response = await post("billing", invoice, standardHeaders(invoice));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, receipt: expect.any(String) });

    const [request] = await sink.waitForRequests(1);
    expect(request?.json).toMatchObject({
      title: "Invoice paid on #881",
      event: { sourceType: "generic", type: "invoice.paid", ticketId: "881", known: true },
      payload: JSON.parse(invoice),
    });
  });

  it.each([
    [
      "a signature made with another secret",
      () => standardHeaders(invoice, { secret: "whsec_b3RoZXI=" }),
      /does not match/,
    ],
    ["a signature of another body", () => standardHeaders(invoice.replace("12.5", "1250")), /does not match/],
    [
      "a timestamp older than 5 minutes",
      () => standardHeaders(invoice, { at: Date.now() - 6 * 60_000 }),
      /within 300 s/,
    ],
    ["a timestamp from the future", () => standardHeaders(invoice, { at: Date.now() + 6 * 60_000 }), /within 300 s/],
    ["no signature headers", () => ({}), /missing webhook-id/],
  ])("refuses %s with 401", async (_, headers, error) => {
    const response = await post("billing", invoice, headers());
    expect(response.status).toBe(401);
    expect(((await response.json()) as { error: string }).error).toMatch(error);
  });

  it("stores a replayed message once: the replay is acknowledged as a duplicate and delivers nothing", async () => {
    const headers = standardHeaders(invoice);
    expect(await (await post("billing", invoice, headers)).json()).toEqual({
      accepted: 1,
      receipt: expect.any(String),
    });
    const replay = await post("billing", invoice, headers);
    expect(replay.status).toBe(200);
    expect(await replay.json()).toEqual({ accepted: 0, duplicate: true });

    // A fresh message after the replay is delivered, so the replay's delivery would have come first.
    const next = JSON.stringify({ type: "invoice.voided", data: { ticket: { id: 882 } } });
    await post("billing", next, standardHeaders(next));
    await sink.waitForRequests(2);
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests.map((r) => (r.json as { event: { type: string } }).event.type).sort()).toEqual([
      "invoice.paid",
      "invoice.voided",
    ]);
  });

  it("accepts an X-Hub-Signature-256 over the raw body and refuses a tampered body", async () => {
    const body = '{"action":"opened",  "issue": {"number": 7}}';
    expect((await post("github", body, hubHeaders(body))).status).toBe(200);
    // Same JSON once parsed, other bytes: the signature covers bytes, not meaning.
    const reformatted = JSON.stringify(JSON.parse(body));
    expect((await post("github", reformatted, hubHeaders(body))).status).toBe(401);
    expect((await post("github", body, hubHeaders(body, "guess"))).status).toBe(401);
    expect((await post("github", body, {})).status).toBe(401);

    const [request] = await sink.waitForRequests(1);
    expect(request?.json).toMatchObject({ event: { type: "opened" }, payload: { issue: { number: 7 } } });
  });

  it("stores an X-Hub-Signature-256 body sent twice once, as GitHub-style senders resend the same body", async () => {
    const body = '{"action":"closed","issue":{"number":8}}';
    expect(await (await post("github", body, hubHeaders(body))).json()).toEqual({
      accepted: 1,
      receipt: expect.any(String),
    });
    // Upper-case hex is the same signature, so the same message.
    const resent = {
      "x-hub-signature-256": hubHeaders(body)["x-hub-signature-256"].toUpperCase().replace("SHA256=", "sha256="),
    };
    for (const headers of [hubHeaders(body), resent]) {
      const retry = await post("github", body, headers);
      expect(retry.status).toBe(200);
      expect(await retry.json()).toEqual({ accepted: 0, duplicate: true });
    }

    // Another body is another message: delivered, after the first and with no copy of it.
    const other = '{"action":"reopened","issue":{"number":8}}';
    expect(await (await post("github", other, hubHeaders(other))).json()).toMatchObject({ accepted: 1 });
    await sink.waitForRequests(2);
    expect(sink.requests.map((r) => (r.json as { event: { type: string } }).event.type).sort()).toEqual([
      "closed",
      "reopened",
    ]);
  });

  it("keeps a message without a type at the configured path, routed as unknown", async () => {
    const body = JSON.stringify({ kind: "something-new" });
    expect(await (await post("billing", body, standardHeaders(body))).json()).toEqual({
      accepted: 1,
      receipt: expect.any(String),
    });
    const [request] = await sink.waitForRequests(1);
    expect(request?.json).toMatchObject({ event: { type: "unknown", known: false } });
    await expect.poll(() => relay.logs.join("")).toContain("unknown event type; routed by its raw name");
  });
});
