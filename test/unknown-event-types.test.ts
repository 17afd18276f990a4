import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

/** 500,000 characters, with spaces and angle brackets that no event name may carry. */
const hugeType = "Ab <>".repeat(100_000);
/** What the relay makes of it: disallowed characters replaced, cut to 100 characters. */
const safeType = "Ab___".repeat(20);

/**
 * An event type name is chosen by whoever posts the webhook. The relay keeps, logs, matches and
 * delivers only a safe, bounded form of it; the platform's JSON stays as it was sent.
 */
describe("an event type name the relay does not know, end to end", () => {
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
  socialboards: { type: socialboards, verifyToken: "verify-secret", urlToken: "url-secret" }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - match: { event: "Ab___*" }
    to: [crm]
`,
      { role: "all" },
    );
  });

  afterAll(async () => {
    await relay?.close();
    await sink?.close();
  });

  it("keeps, logs, routes and delivers a 500,000-character EventType only by its cut, safe name", async () => {
    const item = { TicketId: 4478963, Note: "<kept as sent>" };
    const body = JSON.stringify({ CommunityName: "yourCompany", EventType: hugeType, Events: [item] });
    const response = await fetch(`${relay.url}/webhooks/socialboards?token=url-secret`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    expect(response.status).toBe(200);

    const [delivered] = await sink.waitForRequests(1);
    expect(delivered?.json).toMatchObject({ event: { type: safeType, known: false }, payload: item });

    const unknownLine = await waitFor(() => relay.logs.find((line) => line.includes("unknown event type")), {
      what: "the unknown-type log line",
    });
    expect(JSON.parse(unknownLine)).toMatchObject({ source: "socialboards", type: safeType });

    // Every run of 101 characters of the name starts at one of its first five offsets.
    const runs = [0, 1, 2, 3, 4].map((offset) => hugeType.slice(offset, offset + 101));
    for (const line of relay.logs) {
      for (const run of runs) expect(line.includes(run)).toBe(false);
    }
  });
});
