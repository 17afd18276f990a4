import { afterEach, describe, expect, it } from "vitest";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";

const token = "console-token-3f9a1c";

/**
 * Who gets into the console, and how: a login with the admin token, a session cookie that no
 * script and no other site can use, a CSRF token on every request that changes something, and
 * a Content-Security-Policy that lets nothing from another origin in.
 */
describe("the console's door", () => {
  const redis = useRedis();
  let relay: TestRelay;

  afterEach(async () => {
    await relay?.close();
  });

  async function start(extra = `admin: { token: "${token}" }`): Promise<void> {
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: u }
${extra}
`);
  }

  const get = (path: string, headers: Record<string, string> = {}) =>
    fetch(`${relay.url}${path}`, { headers, redirect: "manual" });
  const post = (path: string, form: Record<string, string>, headers: Record<string, string> = {}) =>
    fetch(`${relay.url}${path}`, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
      body: new URLSearchParams(form).toString(),
      redirect: "manual",
    });

  async function logIn(headers: Record<string, string> = {}): Promise<string> {
    const answer = await post("/console/login", { token }, headers);
    expect(answer.status).toBe(303);
    const cookie = answer.headers.get("set-cookie") ?? "";
    return cookie.split(";")[0] ?? "";
  }

  it("is off without admin.token, with a 404 that says how to turn it on", async () => {
    await start("");
    for (const path of ["/console", "/console/events", "/admin/dlq", "/admin/queues"]) {
      const answer = await get(path);
      expect(answer.status, path).toBe(404);
      expect(((await answer.json()) as { error: string }).error, path).toContain("set admin.token");
    }
  });

  it("sends a stranger to the login page, and refuses a wrong token", async () => {
    await start();
    const page = await get("/console/events?outcome=dead");
    expect(page.status).toBe(303);
    expect(page.headers.get("location")).toBe("/console/login?next=%2Fconsole%2Fevents%3Foutcome%3Ddead");

    const wrong = await post("/console/login", { token: "not-the-token" });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("set-cookie")).toBeNull();
    expect(await wrong.text()).toContain("That is not the admin token.");
  });

  it("logs in with the token: an HttpOnly, SameSite=Strict session cookie, and the page it was asked for", async () => {
    await start();
    const answer = await post("/console/login", { token, next: "/console/events" });
    expect(answer.status).toBe(303);
    expect(answer.headers.get("location")).toBe("/console/events");
    const cookie = answer.headers.get("set-cookie") ?? "";
    expect(cookie).toMatch(/^relay_console=[^;]+;/);
    expect(cookie).toMatch(/; path=\/console/i);
    expect(cookie).toMatch(/; samesite=strict/i);
    expect(cookie).toMatch(/; httponly/i);
    // Plain HTTP: a Secure cookie would never come back.
    expect(cookie).not.toMatch(/; secure/i);

    const overview = await get("/console", { cookie: cookie.split(";")[0] ?? "" });
    expect(overview.status).toBe(200);
    expect(overview.headers.get("content-type")).toMatch(/^text\/html/);
    expect(await overview.text()).toContain("<h1>Overview</h1>");
  });

  it("marks the cookie Secure behind a TLS proxy only when server.trustProxy believes it", async () => {
    await start(`admin: { token: "${token}" }\nserver: { trustProxy: true }`);
    const secure = await post("/console/login", { token }, { "x-forwarded-proto": "https" });
    expect(secure.headers.get("set-cookie")).toMatch(/; secure/i);
    await relay.close();

    await start();
    const believedNot = await post("/console/login", { token }, { "x-forwarded-proto": "https" });
    expect(believedNot.headers.get("set-cookie")).not.toMatch(/; secure/i);
  });

  it("refuses a change without the page's CSRF token with 403, and takes it with", async () => {
    await start();
    const cookie = await logIn();
    const without = await post("/console/logout", {}, { cookie });
    expect(without.status).toBe(403);
    const forged = await post("/console/logout", { csrf: "forged" }, { cookie });
    expect(forged.status).toBe(403);

    const page = await (await get("/console", { cookie })).text();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)?.[1] ?? "";
    expect(csrf).not.toBe("");
    const withToken = await post("/console/logout", { csrf }, { cookie });
    expect(withToken.status).toBe(303);
    expect(withToken.headers.get("set-cookie")).toMatch(/relay_console=;/);
  });

  it("sends a Content-Security-Policy that allows nothing from another origin", async () => {
    await start();
    const cookie = await logIn();
    for (const answer of [await get("/console/login"), await get("/console", { cookie })]) {
      const policy = answer.headers.get("content-security-policy") ?? "";
      expect(policy).toContain("default-src 'self'");
      expect(policy).toContain("script-src 'self'");
      expect(policy).toContain("frame-ancestors 'none'");
      expect(await answer.text()).not.toMatch(/https?:\/\/(?!relay)/);
    }
    const css = await get("/console/assets/console.css");
    expect(css.headers.get("content-type")).toMatch(/^text\/css/);
    expect(await css.text()).not.toMatch(/@import|url\(http/);
  });

  it("sends /admin/queues, where the queue dashboard was, to the console", async () => {
    await start();
    const answer = await get("/admin/queues");
    expect(answer.status).toBe(302);
    expect(answer.headers.get("location")).toBe("/console");
  });
});
