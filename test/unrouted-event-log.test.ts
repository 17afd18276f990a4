import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

/** pino's number for `info`, the default LOG_LEVEL. */
const info = 30;

describe("an event that no route matches", () => {
  const redis = useRedis();
  let relay: TestRelay;

  beforeAll(async () => {
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: url-secret }
targets:
  support-slack: { type: slack, token: t, channel: "#support", apiUrl: "http://127.0.0.1:1/api/" }
routes:
  - match: { event: ticket_status_change }
    to: [support-slack]
`);
  });

  afterAll(async () => {
    await relay?.close();
  });

  it("is one info line with its event type and ticket id, so it shows at the default log level", async () => {
    const response = await fetch(`${relay.url}/webhooks/socialboards?token=url-secret`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: readFileSync("test/fixtures/socialboards/reply_creation.json"),
    });
    expect(response.status).toBe(200);
    const line = await waitFor(() => relay.logs.find((entry) => entry.includes("matched no route")), {
      what: "the no-route log line",
    });
    expect(JSON.parse(line)).toMatchObject({ level: info, type: "reply_creation", ticketId: "4478963" });
    expect(relay.logs.filter((entry) => entry.includes("matched no route"))).toHaveLength(1);
  });

  it("names for each route the key it failed on, the words being route --event's", async () => {
    const response = await fetch(`${relay.url}/webhooks/socialboards?token=url-secret`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: readFileSync("test/fixtures/socialboards/note_creation.json"),
    });
    expect(response.status).toBe(200);
    const line = await waitFor(
      () => relay.logs.find((entry) => entry.includes("matched no route") && entry.includes('"note_creation"')),
      { what: "the note's no-route log line" },
    );
    expect(JSON.parse(line).unmet).toEqual({ "routes[0]": "event" });
  });
});
