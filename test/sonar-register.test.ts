import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { main } from "../src/cli.js";
import { sonarEventTypes } from "../src/sources/sonar/register.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";

/**
 * `ticket-relay sonar register` against a local server standing in for Sonar's API: it records
 * the request, so the test checks the exact body and headers Sonar's Create Webhook API takes.
 */
describe("ticket-relay sonar register", () => {
  let sonarApi: HttpSink;
  let configFile: string;
  let output: string[];
  const env = { ...process.env };

  beforeAll(async () => {
    sonarApi = await startHttpSink();
    configFile = join(mkdtempSync(join(tmpdir(), "relay-sonar-")), "relay.yaml");
    writeFileSync(
      configFile,
      `sources:
  sonar: { type: sonar, urlToken: "\${SONAR_URL_TOKEN}" }
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
`,
    );
  });

  beforeEach(() => {
    sonarApi.reset();
    output = [];
    vi.spyOn(console, "log").mockImplementation((line: string) => output.push(line));
    vi.spyOn(console, "error").mockImplementation((line: string) => output.push(line));
    Object.assign(process.env, {
      SONAR_API_TOKEN: "sonar-api-token-123",
      SONAR_API_URL: `${sonarApi.url}/api/v1`,
      SONAR_URL_TOKEN: "url-token-456",
    });
  });

  afterAll(async () => {
    vi.restoreAllMocks();
    process.env = env;
    await sonarApi.close();
  });

  const run = (...args: string[]) => main(["sonar", "register", "--config", configFile, ...args]);

  it("creates a webhook for every Sonar event, pointed at the source's endpoint with its token", async () => {
    sonarApi.respondWith({ status: 201, body: JSON.stringify({ id: 42, name: "ticket-relay sonar" }) });
    expect(await run("--source", "sonar", "--url", "https://relay.example.com")).toBe(0);

    const [request] = sonarApi.requests;
    expect(request?.method).toBe("POST");
    expect(request?.path).toBe("/api/v1/webhooks");
    expect(request?.headers["x-token"]).toBe("sonar-api-token-123");
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.json).toEqual({
      webhook: {
        name: "ticket-relay sonar",
        active: "true",
        settings: Object.fromEntries(sonarEventTypes.map((event) => [event, "true"])),
        url: "https://relay.example.com/webhooks/sonar?token=url-token-456",
        http_method: "POST",
      },
    });
    // The token reaches Sonar but is not printed.
    expect(output.join("\n")).toMatch(
      /Sonar webhook created: 11 events → https:\/\/relay\.example\.com\/webhooks\/sonar\?token=…/,
    );
    expect(output.join("\n")).not.toContain("url-token-456");
  });

  it("subscribes only to the events named with --events", async () => {
    expect(
      await run(
        "--source",
        "sonar",
        "--url",
        "https://relay.example.com/base/",
        "--events",
        "customer_created,customer_unsubscribed",
      ),
    ).toBe(0);
    expect(sonarApi.requests[0]?.json).toMatchObject({
      webhook: {
        settings: { customer_created: "true", customer_unsubscribed: "true" },
        url: "https://relay.example.com/base/webhooks/sonar?token=url-token-456",
      },
    });
    const sent = sonarApi.requests[0]?.json as { webhook: { settings: object } };
    expect(Object.keys(sent.webhook.settings)).toHaveLength(2);
  });

  it("reports Sonar's refusal and exits 1", async () => {
    sonarApi.respondWith({ status: 401, body: JSON.stringify({ error: "Invalid token" }) });
    expect(await run("--source", "sonar", "--url", "https://relay.example.com")).toBe(1);
    expect(output.join("\n")).toMatch(/Sonar refused the webhook \(401\): \{"error":"Invalid token"\}/);
  });

  it.each([
    [
      "an event Sonar does not offer",
      ["--source", "sonar", "--url", "https://r.example.com", "--events", "ticket_created"],
      2,
      /unknown Sonar event ticket_created/,
    ],
    [
      "a source that is not a sonar source",
      ["--source", "socialboards", "--url", "https://r.example.com"],
      1,
      /no sonar source "socialboards" \(sonar sources: sonar\)/,
    ],
    ["no --url", ["--source", "sonar"], 2, /needs --source ID and --url/],
    ["a URL that is not one", ["--source", "sonar", "--url", "relay.example.com"], 2, /--url must be a URL/],
  ])("refuses %s without calling Sonar", async (_, args, code, message) => {
    expect(await run(...args)).toBe(code);
    expect(output.join("\n")).toMatch(message);
    expect(sonarApi.requests).toHaveLength(0);
  });

  it("needs SONAR_API_TOKEN", async () => {
    delete process.env.SONAR_API_TOKEN;
    expect(await run("--source", "sonar", "--url", "https://relay.example.com")).toBe(1);
    expect(output.join("\n")).toMatch(/set SONAR_API_TOKEN/);
    expect(sonarApi.requests).toHaveLength(0);
  });
});
