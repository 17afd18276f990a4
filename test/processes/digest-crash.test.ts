import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.js";
import { statusChanges, ticketRange } from "../support/status-changes.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

interface DigestBody {
  digest?: { count: number; events: { ticketId: string }[] };
  event?: { ticketId: string };
}

/** A digest's pending events live in Redis: worker processes die mid-window, the digest still comes once. */
describe("a digest when workers crash", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let ingest: TestRelay | undefined;
  const workers: RelayProcess[] = [];
  const prefix = uniquePrefix();
  const config = (url: string) => `
redis: { url: "${url}", prefix: ${prefix} }
workers: { concurrency: 20, lockDuration: 1s, stalledInterval: 500ms }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm:
    type: http
    url: "${sink.url}/hooks"
    digest: { window: 3s, max: 500, groupBy: [status] }
retry: { attempts: 3, backoff: fixed, delay: 100ms }
routes:
  - to: [crm]
`;

  beforeAll(async () => {
    sink = await startHttpSink();
    ingest = await startTestRelay(config(redis.url), { role: "ingest" });
  });

  afterAll(async () => {
    await ingest?.close();
    for (const worker of workers) {
      worker.kill("SIGTERM");
      await worker.exited;
    }
    await sink?.close();
  });

  it("sends the digest once after a worker is killed in its window and another starts", async () => {
    // One after the other: two processes compiling at once on a busy machine start slowly.
    workers.push(await startRelayProcess(config(redis.url), "worker"));
    workers.push(await startRelayProcess(config(redis.url), "worker"));
    const [doomed] = workers.splice(0, 1) as [RelayProcess];
    const tickets = ticketRange(7_400_001, 60);
    await Promise.all(
      [tickets.slice(0, 30), tickets.slice(30)].map(async (batch) => {
        const response = await fetch(`${ingest?.url}/webhooks/socialboards`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: statusChanges(batch, "open", "closed"),
        });
        expect(response.status).toBe(200);
      }),
    );

    // Every event has joined the window in Redis; none is sent yet.
    const admin = new Redis(redis.url);
    try {
      await waitFor(
        async () => {
          // The open window, or the closed one if this machine was slow to get here.
          const windows = (await admin.keys(`${prefix}:digest:crm:*`)).filter((key) => !/:(listed|threads)$/.test(key));
          const counts = await Promise.all(windows.map((key) => admin.hget(key, "count")));
          return counts.some((count) => Number(count) === 60);
        },
        { what: "60 events in the open window" },
      );
    } finally {
      admin.disconnect();
    }
    expect(sink.requests).toHaveLength(0);
    doomed.kill("SIGKILL");
    await doomed.exited;
    workers.push(await startRelayProcess(config(redis.url), "worker"));

    const [request] = await sink.waitForRequests(1, 15_000);
    // Whatever either worker would still do, the killed one's jobs once taken over too, let it:
    // "once" must stay once.
    await waitForQuietQueues({ url: redis.url, prefix });
    expect(sink.requests).toHaveLength(1);
    const body = request?.json as DigestBody;
    expect(body.digest?.count).toBe(60);
    expect(body.digest?.events.map((event) => Number(event.ticketId)).sort()).toEqual(tickets);
  }, 60_000);

  it("sends every event once when a worker is killed while events are joining the window", async () => {
    sink.reset();
    // Two workers (those of the test before, when it ran): one dies with joins in hand, the other takes them over.
    while (workers.length < 2) workers.push(await startRelayProcess(config(redis.url), "worker"));
    const [doomed] = workers.splice(0, 1) as [RelayProcess];
    const tickets = ticketRange(7_500_001, 200);
    await Promise.all(
      [tickets.slice(0, 100), tickets.slice(100)].map(async (batch) => {
        const response = await fetch(`${ingest?.url}/webhooks/socialboards`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: statusChanges(batch, "open", "solved"),
        });
        expect(response.status).toBe(200);
      }),
    );
    await waitFor(() => doomed.lines.some((line) => line.includes("joined a digest window")), {
      what: "the first joins",
    });
    doomed.kill("SIGKILL");
    await doomed.exited;

    // Its joins are taken over when their lock runs out: in this window, or in the next one.
    const received = () =>
      sink.requests.flatMap((request) => {
        const body = request.json as DigestBody;
        return body.digest ? body.digest.events.map((event) => event.ticketId) : [body.event?.ticketId];
      });
    await waitFor(() => received().length >= 200, { what: "all 200 events", timeoutMs: 20_000 });
    await waitForQuietQueues({ url: redis.url, prefix });
    const ids = received().map(Number);
    expect(ids).toHaveLength(200);
    expect([...new Set(ids)].sort()).toEqual(tickets);
  }, 60_000);
});
