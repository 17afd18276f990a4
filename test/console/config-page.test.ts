import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { maskConfig, secretMask } from "../../src/http/console/masked-config.js";
import { consoleSession } from "../support/console-session.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";

/** Secrets as an operator gives them: through the environment. Built at run time, so no scanner takes them for real. */
const env = {
  ADMIN_TOKEN: `admin-${randomBytes(6).toString("hex")}`,
  SLACK_TOKEN: `xoxb-${randomBytes(8).toString("hex")}`,
  URL_TOKEN: `url-${randomBytes(6).toString("hex")}`,
  VERIFY_TOKEN: `verify-${randomBytes(6).toString("hex")}`,
  SIGNING_SECRET: `whsec_${randomBytes(32).toString("base64")}`,
  SMTP_PASSWORD: `smtp-${randomBytes(6).toString("hex")}`,
  CRM_KEY: `crm-${randomBytes(6).toString("hex")}`,
  QUERY_KEY: `query-${randomBytes(6).toString("hex")}`,
};

/** The config page: the config in force with every secret masked, and `check`'s warnings about it. */
describe("the console's config page", () => {
  const redis = useRedis();
  let relay: TestRelay;

  afterEach(async () => {
    await relay?.close();
  });

  it("shows the routes and targets in force, check's warnings, and none of the secrets given through the environment", async () => {
    relay = await startTestRelay(
      `
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
admin: { token: "\${ADMIN_TOKEN}" }
sources:
  socialboards: { type: socialboards, verifyToken: "\${VERIFY_TOKEN}", urlToken: "\${URL_TOKEN}" }
targets:
  support-slack: { type: slack, token: "\${SLACK_TOKEN}", channel: "#support" }
  crm:
    type: http
    url: "https://crm.example.com/hooks?key=\${QUERY_KEY}&format=json"
    headers: { Authorization: "Bearer \${CRM_KEY}" }
    signingSecret: "\${SIGNING_SECRET}"
  spare-mail: { type: email, smtp: "smtp://relay:\${SMTP_PASSWORD}@127.0.0.1:2525", from: relay@example.com, to: ops@example.com }
routes:
  - name: urgent-to-slack
    match: { status: urgent }
    to: [support-slack]
    template: { slack: { text: "Ticket {{ event.ticketId }} (seen with key \${QUERY_KEY})" } }
  - { name: everything-to-crm, to: [crm] }
`,
      { env },
    );
    const session = await consoleSession(relay.url, env.ADMIN_TOKEN);
    const page = await session.page("/console/config");

    expect(page).toContain("1 source, 3 targets, 2 routes");
    for (const name of ["urgent-to-slack", "everything-to-crm", "support-slack", "crm:", "spare-mail", "#support"]) {
      expect(page).toContain(name);
    }
    expect(page).toContain("https://crm.example.com/hooks?key=••••••&#38;format=••••••");
    expect(page).toContain("smtp://relay:••••••@127.0.0.1:2525");
    expect(page).toContain("Authorization: ••••••");
    // check's lint on the config in force: the email target no route sends to.
    expect(page).toMatch(/<li class="mono">config targets\.spare-mail: [^<]*no route/);
    for (const [name, secret] of Object.entries(env)) {
      expect(page, name).not.toContain(secret);
      expect(page, name).not.toContain(encodeURIComponent(secret));
    }
  });

  it("masks secrets by their key, in addresses, and wherever else the same value appears", () => {
    const { config, maskText } = maskConfig({
      redis: {
        url: "redis://default:redis-pass-123@redis:6379",
        sentinel: { sentinels: ["redis://:sentinel-pass-9@s1:26379", "s2:26379"], password: "primary-pass-7" },
      },
      admin: { token: "t0k3n-admin" },
      sources: { sb: { type: "socialboards", urlToken: "u", dedupe: { window: 1000 } } },
      targets: { crm: { headers: { "X-Api-Key": "key-1234567" }, url: "https://crm/?a=1" } },
      routes: [
        { name: "u", to: ["crm"] },
        { name: "quote t0k3n-admin here", to: ["crm"] },
      ],
    });
    expect(config).toEqual({
      redis: {
        url: `redis://default:${secretMask}@redis:6379`,
        sentinel: { sentinels: [`redis://:${secretMask}@s1:26379`, "s2:26379"], password: secretMask },
      },
      admin: { token: secretMask },
      sources: { sb: { type: "socialboards", urlToken: secretMask, dedupe: { window: 1000 } } },
      targets: { crm: { headers: { "X-Api-Key": secretMask }, url: `https://crm/?a=${secretMask}` } },
      // "u" is the URL token: a whole value equal to it is masked, and no "u" inside other text.
      routes: [
        { name: secretMask, to: ["crm"] },
        { name: `quote ${secretMask} here`, to: ["crm"] },
      ],
    });
    expect(maskText("a warning about redis-pass-123 and key-1234567")).toBe(
      `a warning about ${secretMask} and ${secretMask}`,
    );
  });
});
