import { createServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import { closeServer, listen } from "../support/listen.js";
import { waitFor } from "../support/wait.js";
import { startLoad } from "./support/load.js";
import { eventBody, faultScenario, markerOf, report } from "./support/scenario.js";

const events = 300;
/** As a CRM endpoint on a bad day: every answer after 30 s, past the target's default 10 s timeout. */
const slowAnswerMs = 30_000;

/** An HTTP target that answers at once and notes when each event arrived. */
async function startTimingSink() {
  const arrivedAt = new Map<number, number>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const marker = markerOf(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      if (marker !== undefined && !arrivedAt.has(marker)) arrivedAt.set(marker, Date.now());
      response.end('{"ok":true}');
    });
  });
  return { url: await listen(server), arrivedAt, close: () => closeServer(server) };
}

/** An HTTP target that holds every request `slowAnswerMs` before answering. */
async function startSlowSink() {
  const server: Server = createServer((request, response) => {
    request.resume();
    setTimeout(() => response.end('{"ok":true}'), slowAnswerMs).unref();
  });
  return { url: await listen(server), close: () => closeServer(server) };
}

const percentile = (sorted: number[], share: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(share * sorted.length))] ?? 0;

describe("a receiver answering after 30 s beside a fast one", () => {
  const fault = faultScenario();

  it("delays none of the fast target's deliveries by more than seconds", async () => {
    const [fast, slow] = await Promise.all([startTimingSink(), startSlowSink()]);
    try {
      // The relay's defaults: 50 deliveries in hand per worker, 10 sends at once per target.
      const relay = await fault.relays.start(`
server: { port: 0, host: 127.0.0.1 }
redis: { url: "${fault.redis.url}", prefix: slowfast }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  slow: { type: http, url: "${slow.url}/slow" }
  fast: { type: http, url: "${fast.url}/fast" }
routes:
  - { name: both, to: [slow, fast] }
`);
      const postedAt = new Map<number, number>();
      const load = startLoad({
        url: () => `${relay.url}/webhooks/socialboards`,
        count: events,
        rate: 20,
        body: eventBody,
        onAnswer: (n, status) => {
          if (status === 200) postedAt.set(n, Date.now());
        },
      });
      await load.done;
      await waitFor(() => [...load.accepted].every((n) => fast.arrivedAt.has(n)), {
        what: "every accepted event at the fast target",
        timeoutMs: 120_000,
        intervalMs: 250,
      });
      const waits = [...load.accepted]
        .map((n) => (fast.arrivedAt.get(n) ?? 0) - (postedAt.get(n) ?? 0))
        .sort((a, b) => a - b);
      const median = percentile(waits, 0.5);
      const last = waits[waits.length - 1] ?? 0;
      await report(
        "slow receiver beside a fast one",
        load,
        events,
        { accepted: load.accepted.size, missing: { "/fast": 0 }, duplicates: 0 },
        `fast target's wait after the 200: median ${median} ms, p99 ${percentile(waits, 0.99)} ms, last ${last} ms`,
      );
      expect(load.accepted.size).toBe(events);
      // Before per-target slots: median 30 s, last 61 s, the slow target's retries in every worker slot.
      expect(last).toBeLessThan(5000);
    } finally {
      await Promise.all([fast.close(), slow.close()]);
    }
  });
});
