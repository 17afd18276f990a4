import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { requestWithMethod } from "./support/raw-http.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";

/** Each path the relay serves, with the methods it takes, as its Allow header lists them. */
const served = [
  ["/healthz", "GET, HEAD", "GET or HEAD"],
  ["/readyz", "GET, HEAD", "GET or HEAD"],
  ["/webhooks/socialboards", "GET, HEAD, POST", "GET, HEAD or POST"],
] as const;

/** Methods no path takes; PROPFIND stands for any other method Node's HTTP parser lets through. */
const otherMethods = ["TRACE", "OPTIONS", "PUT", "PATCH", "DELETE", "PROPFIND"] as const;

describe("HTTP methods", () => {
  const redis = useRedis();
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: "verify-secret", urlToken: "url-secret" }
`,
      { role: "ingest" },
    );
  });

  afterAll(async () => {
    await relay?.close();
  });

  it("answers TRACE with 405 and the methods the path takes, never echoing the request", async () => {
    const response = await requestWithMethod(relay.url, "TRACE", "/webhooks/socialboards?token=url-secret");
    expect(response.status).toBe(405);
    expect(response.headers.allow).toBe("GET, HEAD, POST");
    expect(response.headers["content-type"]).toMatch(/^application\/json/);
    expect(JSON.parse(response.body)).toEqual({
      error: "method TRACE is not allowed here; use GET, HEAD or POST",
    });
  });

  describe.each(served)("%s", (path, allow, choices) => {
    const refused: string[] = allow.includes("POST") ? [...otherMethods] : [...otherMethods, "POST"];

    it.each(refused)(`answers %s with 405, Allow: ${allow} and a JSON error`, async (method) => {
      const response = await requestWithMethod(relay.url, method, path);
      expect(response.status).toBe(405);
      expect(response.headers.allow).toBe(allow);
      expect(JSON.parse(response.body)).toEqual({ error: `method ${method} is not allowed here; use ${choices}` });
    });

    it("answers HEAD like GET, without a body", async () => {
      const get = await requestWithMethod(relay.url, "GET", path);
      const head = await requestWithMethod(relay.url, "HEAD", path);
      expect(head.status).toBe(get.status);
      expect(head.body).toBe("");
    });
  });

  it.each(["GET", "HEAD", "POST", ...otherMethods])(
    "answers %s on a path it does not serve with 404",
    async (method) => {
      const response = await requestWithMethod(relay.url, method, "/nothing-here");
      expect(response.status).toBe(404);
      expect(response.headers.allow).toBeUndefined();
      if (method !== "HEAD") expect(JSON.parse(response.body)).toEqual({ error: "not found" });
    },
  );
});
