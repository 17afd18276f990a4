import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { parseConfig } from "../src/config/load.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { storedWebhooks } from "./support/webhook-stream.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/** A Socialboards envelope, valid in every way the platform documents, around any `Events` text. */
const envelopeAround = (events: string) => `{"CommunityName":"a","EventType":"x","Events":${events}}`;

/**
 * Bodies within the byte limit that would still cost the relay far more than their size: JSON
 * nested deeper than anything walks it safely, and one request fanning out to thousands of
 * deliveries. Ingest alone, so what Redis holds is exactly what ingest stored.
 */
describe("webhook limits beyond the body size", () => {
  const redis = useRedis();
  let relay: TestRelay;
  let inbound: ReturnType<typeof storedWebhooks>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${prefix} }
sources:
  socialboards: { type: socialboards, verifyToken: "verify-secret", urlToken: "url-secret" }
`,
      { role: "ingest" },
    );
    inbound = storedWebhooks(redis.url, prefix);
  });

  afterAll(async () => {
    await inbound?.close();
    await relay?.close();
  });

  const post = (body: string) =>
    fetch(`${relay.url}/webhooks/socialboards?token=url-secret`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });

  it("refuses JSON nested 100,000 deep in a valid envelope with 400, stores nothing, and keeps serving", async () => {
    const before = await inbound.count();
    const deep = envelopeAround(`[{"D":${"[".repeat(100_000)}${"]".repeat(100_000)}}]`);

    const response = await post(deep);
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({ error: "JSON nested deeper than 64 levels" });

    expect(await inbound.count()).toBe(before);
    expect((await fetch(`${relay.url}/healthz`)).status).toBe(200);
    expect((await post(statusChange)).status).toBe(200);
  });

  it("accepts JSON nested exactly 64 deep", async () => {
    // The envelope, Events and its item are 3 levels; 61 more make 64.
    const response = await post(envelopeAround(`[{"D":${"[".repeat(61)}${"]".repeat(61)}}]`));
    expect(response.status).toBe(200);
  });

  it("refuses a webhook of 50,000 events with 413 naming the limit and its key, and stores nothing", async () => {
    const before = await inbound.count();
    const many = envelopeAround(`[${Array(50_000).fill("{}").join(",")}]`);

    const response = await post(many);
    expect(response.status).toBe(413);
    const { error } = (await response.json()) as { error: string };
    expect(error).toContain("50000 events");
    expect(error).toContain("1000");
    expect(error).toContain("server.maxEventsPerWebhook");

    expect(await inbound.count()).toBe(before);
  });

  it("accepts a webhook of exactly 1000 events by default", async () => {
    const response = await post(envelopeAround(`[${Array(1000).fill("{}").join(",")}]`));
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ accepted: 1000, receipt: expect.any(String) });
  });
});

describe("server.maxEventsPerWebhook", () => {
  const config = (server: string) =>
    parseConfig(`server: ${server}\nsources: { sb: { type: sonar, urlToken: none } }\n`, "t.yaml", {});

  it("defaults to 1000 and takes a positive whole number, also from the environment", () => {
    expect(config("{}").server.maxEventsPerWebhook).toBe(1000);
    expect(config("{ maxEventsPerWebhook: 5 }").server.maxEventsPerWebhook).toBe(5);
    expect(config('{ maxEventsPerWebhook: "25" }').server.maxEventsPerWebhook).toBe(25);
  });

  it.each(["0", "-1", "2.5", "many"])("refuses %s", (value) => {
    expect(() => config(`{ maxEventsPerWebhook: ${value} }`)).toThrow(ConfigError);
    expect(() => config(`{ maxEventsPerWebhook: ${value} }`)).toThrow(/maxEventsPerWebhook/);
  });
});
