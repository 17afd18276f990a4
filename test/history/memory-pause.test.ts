import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import { pauseAbove, readMemory } from "../../src/history/memory-guard.js";
import { storyWhen } from "../support/history.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { scrape } from "../support/metrics.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const fixture = JSON.parse(
  readFileSync(new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8"),
);
/** The relay looks at Redis's memory every 5 s; a running relay does not hand out its History to look sooner. */
const nextLook = { timeoutMs: 12_000 };
const pausedLine = "history recording paused";
const resumedLine = "history recording resumed";

/**
 * History never competes with the queue: this file's own redis-server is given a `maxmemory`
 * just above what it uses, and the relay on it goes on delivering while it records nothing.
 */
describe("history recording near maxmemory", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let reader: HistoryReader;
  let maxmemoryBefore: string;
  let ticket = 0;

  beforeAll(async () => {
    sink = await startHttpSink();
    maxmemoryBefore = ((await redis.client.config("GET", "maxmemory")) as string[])[1] ?? "0";
  });
  afterAll(async () => {
    await sink.close();
  });

  beforeEach(async () => {
    const prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
routes:
  - { name: everything-to-crm, to: [crm] }
`);
    reader = new HistoryReader(redis.client, historyKeys(prefix));
  });
  afterEach(async () => {
    await redis.client.config("SET", "maxmemory", maxmemoryBefore);
    await relay.close();
    sink.reset();
  });

  /** A webhook of a ticket of its own, so that no two are duplicates. */
  async function post(): Promise<string> {
    ticket += 1;
    const body = { ...fixture, Events: [{ ...fixture.Events[0], TicketId: ticket }] };
    const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    expect(answer.status).toBe(200);
    return ((await answer.json()) as { receipt: string }).receipt;
  }
  const linesSaying = (text: string) =>
    relay.logs.map((line) => JSON.parse(line)).filter((entry) => String(entry.msg).includes(text));

  it("pauses recording past 0.8 of maxmemory while deliveries go on, and resumes when there is room", async () => {
    const delivered = (receipt: string) =>
      storyWhen(reader, receipt, (s) => s.deliveries.every((d) => d.state === "delivered"));
    await delivered(await post());
    const recorded = await redis.client.zcard(historyKeys(relay.config.redis.prefix).webhooks);
    expect(recorded).toBe(1);

    // Just past the share at which recording pauses, set again at each try in case Redis's use moves.
    await waitFor(async () => {
      const { used } = await readMemory(redis.client);
      await redis.client.config("SET", "maxmemory", String(Math.floor(used / (pauseAbove + 0.05))));
      await relay.history?.lookAtMemory();
      return linesSaying(pausedLine).length > 0;
    }, nextLook);
    const [warning] = linesSaying(pausedLine);
    expect(warning).toMatchObject({ level: 40 });
    expect(warning.msg).toContain("deliveries go on");

    const whilePaused = [await post(), await post(), await post()];
    await sink.waitForRequests(4);
    await waitForQuietQueues(relay.config.redis);
    expect(sink.requests).toHaveLength(4);
    expect(await reader.stories(whilePaused)).toEqual([undefined, undefined, undefined]);
    expect(await redis.client.zcard(historyKeys(relay.config.redis.prefix).webhooks)).toBe(recorded);
    const metrics = await scrape(`${relay.url}/metrics`);
    expect(metrics.value("ticket_relay_history_paused")).toBe(1);
    expect(metrics.value("ticket_relay_history_skipped_total")).toBeGreaterThan(0);
    expect(linesSaying(pausedLine)).toHaveLength(1);

    const { used } = await readMemory(redis.client);
    await redis.client.config("SET", "maxmemory", String(used * 10));
    await relay.history?.lookAtMemory();
    await waitFor(() => linesSaying(resumedLine).length > 0, nextLook);
    expect((await scrape(`${relay.url}/metrics`)).value("ticket_relay_history_paused")).toBe(0);
    const after = await post();
    await delivered(after);
    await sink.waitForRequests(5);
    expect(linesSaying(pausedLine)).toHaveLength(1);
  }, 30_000);
});
