import { readFileSync } from "node:fs";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const ticketCreation = readFileSync(new URL("fixtures/socialboards/ticket_creation.json", import.meta.url), "utf8");
const signingSecret = `whsec_${Buffer.from("the crm's 32-byte signing key!!!").toString("base64")}`;

/**
 * A receiver checks each request with the reference Standard Webhooks verifier, and drops
 * repeats by `webhook-id`: both must hold on every try of a delivery, not only on the first.
 */
describe("an HTTP target with a signing secret", () => {
  const redis = useRedis();
  let crm: HttpSink;
  let plain: HttpSink;
  let relay: TestRelay;

  beforeAll(async () => {
    [crm, plain] = await Promise.all([startHttpSink(), startHttpSink()]);
    crm.respondWith({ status: 503 }, { status: 503 });
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${crm.url}/hooks", signingSecret: "\${CRM_SIGNING_SECRET}" }
  plain: { type: http, url: "${plain.url}/hooks" }
retry: { attempts: 4, backoff: fixed, delay: 50ms, maxDelay: 100ms }
routes:
  - to: [crm, plain]
`,
      { env: { CRM_SIGNING_SECRET: signingSecret } },
    );
    await fetch(`${relay.url}/webhooks/socialboards`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: ticketCreation,
    });
    await crm.waitForRequests(3);
    await plain.waitForRequests(1);
    await waitFor(() =>
      relay.logs.find((line) => line.includes('"msg":"delivered"') && line.includes('"target":"crm"')),
    );
  });

  afterAll(async () => {
    await relay?.close();
    await Promise.all([crm?.close(), plain?.close()]);
  });

  it("retries a 503 twice and delivers once, on the third try", () => {
    expect(crm.requests).toHaveLength(3);
    const delivered = relay.logs.find((line) => line.includes('"msg":"delivered"') && line.includes('"target":"crm"'));
    expect(JSON.parse(delivered ?? "{}")).toMatchObject({ attempt: 3, detail: "HTTP 200" });
  });

  it("carries the same webhook-id, the delivery id, on every try", () => {
    const ids = crm.requests.map((request) => request.headers["webhook-id"]);
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toBe((crm.requests[0]?.json as { deliveryId?: string } | undefined)?.deliveryId);
  });

  it("signs every try so that the Standard Webhooks verifier accepts it", () => {
    const verifier = new Webhook(signingSecret);
    for (const request of crm.requests) {
      const headers = request.headers as Record<string, string>;
      expect(headers["webhook-signature"]).toMatch(/^v1,/);
      expect(verifier.verify(request.body, headers)).toEqual(request.json);
    }
  });

  it("sends webhook-id but no signature to a target without a secret", () => {
    const [request] = plain.requests;
    expect(request?.headers["webhook-id"]).toBe((request?.json as { deliveryId?: string } | undefined)?.deliveryId);
    expect(request?.headers["webhook-signature"]).toBeUndefined();
    expect(request?.headers["webhook-timestamp"]).toBeUndefined();
  });

  it("never writes the signing secret to its logs", () => {
    const logs = relay.logs.join("");
    expect(logs).not.toContain(signingSecret);
    expect(logs).not.toContain(signingSecret.slice("whsec_".length));
  });
});
