import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { storedWebhooks } from "./support/webhook-stream.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/**
 * Ingest alone (no workers), so what Redis holds after a 200 is exactly what ingest stored.
 */
describe("webhook intake", () => {
  const redis = useRedis();
  let relay: TestRelay;
  let inbound: ReturnType<typeof storedWebhooks>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    relay = await startTestRelay(
      `
server: { bodyLimit: 4kb }
redis: { url: "${redis.url}", prefix: ${prefix} }
sources:
  socialboards: { type: socialboards, verifyToken: "verify-secret", urlToken: "url-secret" }
  open-board: { type: socialboards, verifyToken: "other", urlToken: none }
`,
      { role: "ingest" },
    );
    inbound = storedWebhooks(redis.url, prefix);
  });

  afterAll(async () => {
    await inbound?.close();
    await relay?.close();
  });

  const post = (path: string, body: string, contentType = "application/json") =>
    fetch(`${relay.url}${path}`, { method: "POST", headers: { "content-type": contentType }, body });

  describe("verification handshake", () => {
    it("answers 200 with exactly the challenge as text when the verify token matches", async () => {
      const response = await fetch(`${relay.url}/webhooks/socialboards?challenge=2135675231&verifyToken=verify-secret`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toMatch(/^text\/plain/);
      expect(await response.text()).toBe("2135675231");
    });

    it("answers 403 with a JSON error when the verify token is wrong", async () => {
      const response = await fetch(`${relay.url}/webhooks/socialboards?challenge=2135675231&verifyToken=guess`);
      expect(response.status).toBe(403);
      expect(await response.json()).toEqual({ error: "verifyToken does not match" });
    });
  });

  it("acknowledges a webhook only once Redis holds it, with the count of its events", async () => {
    const response = await post("/webhooks/socialboards?token=url-secret", statusChange);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1, receipt: expect.any(String) });

    const [stored] = await inbound.all();
    expect(stored?.receipt).toMatchObject({ source: "socialboards" });
    expect(stored?.payload).toEqual(JSON.parse(statusChange));
  });

  it("accepts POSTs without a token when the source has no urlToken", async () => {
    const response = await post("/webhooks/open-board", statusChange);
    expect(response.status).toBe(200);
  });

  it.each([
    [
      "an unknown source",
      "/webhooks/zendesk?token=url-secret",
      statusChange,
      "application/json",
      404,
      /unknown source "zendesk"/,
    ],
    ["no URL token", "/webhooks/socialboards", statusChange, "application/json", 401, /token/],
    ["a wrong URL token", "/webhooks/socialboards?token=url-secreT", statusChange, "application/json", 401, /token/],
    [
      "a body that is not JSON",
      "/webhooks/socialboards?token=url-secret",
      "{not json",
      "application/json",
      400,
      /not valid JSON/,
    ],
    [
      "JSON that is not a Socialboards payload",
      "/webhooks/socialboards?token=url-secret",
      '{"hello":"world"}',
      "application/json",
      400,
      /CommunityName/,
    ],
    [
      "a form body, whatever its content type says",
      "/webhooks/socialboards?token=url-secret",
      "a=b",
      "application/x-www-form-urlencoded",
      400,
      /not valid JSON/,
    ],
    [
      "a body over the limit",
      "/webhooks/socialboards?token=url-secret",
      JSON.stringify({ pad: "x".repeat(5000) }),
      "application/json",
      413,
      /limit/,
    ],
  ])("refuses %s with a JSON error", async (_, path, body, contentType, status, message) => {
    const response = await post(path, body, contentType);
    expect(response.status).toBe(status);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(((await response.json()) as { error: string }).error).toMatch(message);
  });

  it("refuses the overview page's example, which is not valid JSON", async () => {
    // Socialboards' own overview example lacks a comma after "TicketId": 4478963.
    const example = readFileSync(
      new URL("fixtures/socialboards/malformed/overview-example.txt", import.meta.url),
      "utf8",
    );
    const response = await post("/webhooks/socialboards?token=url-secret", example);
    expect(response.status).toBe(400);
  });

  it("stores nothing that it refused, and keeps serving", async () => {
    const before = await inbound.count();
    await post("/webhooks/socialboards?token=wrong", statusChange);
    await post("/webhooks/socialboards?token=url-secret", "{");
    expect(await inbound.count()).toBe(before);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
  });

  it("reports ready while Redis answers", async () => {
    const response = await fetch(`${relay.url}/readyz`);
    expect(response.status).toBe(200);
  });

  it("answers 404 in JSON for paths it does not serve", async () => {
    const response = await fetch(`${relay.url}/nothing-here`);
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: "not found" });
  });
});
