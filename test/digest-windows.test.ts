import { type Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RelayEvent } from "../src/events.js";
import { createLogger } from "../src/log.js";
import { DigestWindows } from "../src/queue/delivery/digest-windows.js";
import { Digests } from "../src/queue/delivery/digests.js";
import { Fallbacks } from "../src/queue/delivery/fallback.js";
import { type DeliveryJob, deliveryJobId, deliveryQueueName } from "../src/queue/jobs.js";
import { relayKeys } from "../src/queue/queues.js";
import type { Target } from "../src/targets/target.js";
import { type RedisServer, startRedisServer } from "./support/redis.js";
import { uniquePrefix } from "./support/relay.js";

const target: Target = { id: "crm", type: "http", send: async () => ({ detail: "HTTP 200" }) };

function statusChange(ticketId: number, status = "closed"): RelayEvent {
  return {
    id: `receipt${ticketId}.0`,
    source: "socialboards",
    sourceType: "socialboards",
    type: "ticket_status_change",
    known: true,
    receivedAt: "2026-11-25T10:00:00.000Z",
    ticketId: String(ticketId),
    previousStatus: "open",
    status,
    raw: { TicketId: ticketId },
  };
}

/**
 * The windows themselves, through Digests and a real Redis: what a worker dying half-way and
 * running a job again, or two workers at once, may do to them. No worker runs the jobs it queues:
 * the test reads them from the queue.
 */
describe("digest windows in Redis", () => {
  let redis: RedisServer;
  let connections: Redis[];
  let queue: Queue<DeliveryJob>;
  const prefix = uniquePrefix();

  beforeAll(async () => {
    redis = await startRedisServer();
    connections = [new Redis(redis.url), new Redis(redis.url)];
    queue = new Queue<DeliveryJob>(deliveryQueueName, { connection: { url: redis.url }, prefix });
  });

  afterAll(async () => {
    await queue?.close();
    for (const connection of connections ?? []) connection.disconnect();
    await redis?.stop();
  });

  /** One worker's Digests, on a connection of its own. */
  const worker = (index: number, window = 60_000) =>
    new Digests({
      windows: new DigestWindows(connections[index] as Redis, relayKeys(prefix)),
      deliveries: queue,
      settingsOf: () => ({ window, max: 50, groupBy: ["status"] }),
      policyFor: () => ({ attempts: 3, deadLetters: { keep: 60_000, max: 100 } }),
      logger: createLogger({ level: "silent" }),
    });
  const delivery = (event: RelayEvent, data: Partial<DeliveryJob> = {}) =>
    ({
      id: deliveryJobId(event.id, "crm"),
      data: { event, targetId: "crm", route: "bulk", ...data },
    }) as Job<DeliveryJob>;
  const jobsOf = async (step: string) =>
    (await queue.getJobs(["delayed", "wait"])).filter((job) => job.data.digest?.step === step);

  it("counts a delivery run twice (its worker died after joining) once, and queues one closing job", async () => {
    const digests = worker(0);
    const event = statusChange(1, "pending");
    const first = await digests.collect(delivery(event), target);
    const again = await digests.collect(delivery(event), target);
    expect(first?.detail).toMatch(/^in digest window /);
    expect(again?.detail).toBe(first?.detail);
    expect(await jobsOf("close")).toHaveLength(1);
    const [open] = (await connections[0]?.keys(`${prefix}:digest:crm:*:open`)) ?? [];
    expect(await connections[0]?.hget(open ?? "", "count")).toBe("1");
  });

  it("makes one window of 200 deliveries joined by two workers at once, and one digest however often it is closed", async () => {
    await queue.drain(true);
    const events = Array.from({ length: 200 }, (_, index) => statusChange(2000 + index));
    const [one, two] = [worker(0), worker(1)];
    await Promise.all(events.map((event, index) => (index % 2 ? one : two).collect(delivery(event), target)));

    const closing = await jobsOf("close");
    expect(closing).toHaveLength(1);
    const job = closing[0] as Job<DeliveryJob>;
    // Both workers run the closing job (a stalled job run again): the second finds nothing left.
    const results = [await one.collect(job, target), await two.collect(job, target)];
    expect(results[1]?.detail).toMatch(/was closed before/);

    const sends = await jobsOf("send");
    expect(sends).toHaveLength(1);
    const listing = sends[0]?.data.digest?.step === "send" ? sends[0].data.digest.listing : undefined;
    expect(listing?.count).toBe(200);
    expect(listing?.entries).toHaveLength(50);
    expect(listing?.entries[0]?.event.raw).toBeNull();
    // The window is gone from Redis once its digest is queued; the next event opens a new one.
    expect(await connections[0]?.keys(`${prefix}:digest:crm:*:closed:*`)).toEqual([]);
  });

  it("falls back with the same digest when a digest gives up, and with nothing when a closing job does", async () => {
    const [send] = await jobsOf("send");
    const [close] = await jobsOf("close");
    const policy = { attempts: 1, deadLetters: { keep: 60_000, max: 100 } };
    const fallbacks = new Fallbacks(
      queue,
      () => "backup",
      () => policy,
    );
    expect(await fallbacks.queueFor(close as Job<DeliveryJob>, "Redis went away")).toBeUndefined();
    expect(await fallbacks.queueFor(send as Job<DeliveryJob>, "Slack: channel_not_found")).toBe("backup");
    const [fallback] = (await queue.getJobs(["wait"])).filter((job) => job.data.targetId === "backup");
    expect(fallback?.data.fallbackFor).toEqual({ targetId: "crm", reason: "Slack: channel_not_found" });
    expect(fallback?.data.digest).toEqual(send?.data.digest);
  });
});
