import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { RedisClient } from "../redis/connections.js";
import type { InboundJob } from "./jobs.js";
import type { RelayKeys } from "./queues.js";
import { RedisScript } from "./redis-script.js";
import { SameTurnBatch } from "./same-turn-batch.js";

/** The workers' consumer group on the webhook stream. */
export const routingGroup = "routing";

/** A webhook to store: the receipt and body, and its duplicate key when it has one. */
export interface WebhookToStore extends InboundJob {
  /** The duplicate key (a signed message id or a body digest) and how long it is remembered. */
  deduplication?: { id: string; ttl: number };
  /**
   * The JSON text `payload` was parsed from, when ingest has it: stored as it came instead of
   * serialized again, which was the largest cost of storing a webhook.
   */
  payloadJson?: string;
}

/** One stored webhook as a worker reads it; `webhook` is undefined when the entry cannot be read. */
export interface StoredWebhook {
  streamId: string;
  webhook?: InboundJob;
  /** The stored entry's text. */
  entry: string;
}

/**
 * Stores webhooks, each as one call of `store`, in one script for those stored in the same
 * turn of the event loop. A webhook with a duplicate key is stored only if the key is new; the
 * key and the entry are written together, so a write that lands after ingest stopped waiting
 * still makes the sender's retry a duplicate.
 * KEYS: the stream, then the seen key of each webhook that has one, in order.
 * ARGV: per webhook, its key's lifetime in ms ("" for none), receipt id and entry.
 * Returns 1 (stored) or 0 (a duplicate) per webhook.
 */
const storeWebhooks = new RedisScript(`
local stream, nextKey, stored = KEYS[1], 2, {}
for i = 1, #ARGV, 3 do
  local ttl, receiptId, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local new = true
  if ttl ~= "" then
    new = redis.call("SET", KEYS[nextKey], receiptId, "NX", "PX", ttl)
    nextKey = nextKey + 1
  end
  if new then
    redis.call("XADD", stream, "*", "receipt", receiptId, "webhook", entry)
    stored[#stored + 1] = 1
  else
    stored[#stored + 1] = 0
  end
end
return stored`);

/** Most bytes of webhooks in one script call: bounds how long one call holds Redis. */
const maxBytesPerStore = 1024 * 1024;
/** How many unreadable entries are kept aside, about. */
const keepUnreadable = 1000;

type StreamEntry = [id: string, fields: string[]];

/**
 * Accepted webhooks wait for routing in a Redis Stream, not in a BullMQ queue: a stream entry
 * costs Redis one XADD to store and one XACK + XDEL once routed, where a BullMQ job costs an
 * add script, a move to active, a move to finished and their events, for every webhook. The
 * workers read it as one consumer group, many entries per read. An entry read by a worker that
 * stops before it is done stays pending in the group, and another worker claims it (`claimStale`).
 * Ingest stores (`store`), workers read, claim and mark routed, metrics read the depth.
 */
export class WebhookStream {
  /** This process's name in the consumer group, unique per process. */
  readonly consumer = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  readonly #stores = new SameTurnBatch<{ toStore: WebhookToStore; entry: string }, "stored" | "duplicate">(
    async (items) => {
      const keys = [this.keys.webhooks];
      const args: string[] = [];
      for (const { toStore, entry } of items) {
        const { deduplication, receipt } = toStore;
        if (deduplication) keys.push(this.keys.webhookSeen(deduplication.id));
        args.push(deduplication ? String(deduplication.ttl) : "", receipt.id, entry);
      }
      const stored = (await storeWebhooks.run(this.redis, keys, args)) as number[];
      return stored.map((one) => (one === 1 ? "stored" : "duplicate"));
    },
    { maxWeight: maxBytesPerStore, weigh: ({ entry }) => entry.length },
  );

  /** Resolves "stored" once Redis holds the webhook, "duplicate" when its duplicate key was seen. */
  store(toStore: WebhookToStore): Promise<"stored" | "duplicate"> {
    const { receipt, payload, payloadJson } = toStore;
    const entry =
      payloadJson === undefined
        ? JSON.stringify({ receipt, payload })
        : `{"receipt":${JSON.stringify(receipt)},"payload":${payloadJson}}`;
    return this.#stores.call({ toStore, entry });
  }

  /** Stores webhooks together (the spool drainer's batches); resolves once Redis holds them all. */
  storeAll(webhooks: WebhookToStore[]): Promise<("stored" | "duplicate")[]> {
    return Promise.all(webhooks.map((webhook) => this.store(webhook)));
  }

  /** Creates the consumer group if it is not there (a new Redis, or one that lost its data). */
  async ensureGroup(): Promise<void> {
    try {
      // From the start of the stream: webhooks stored before any worker ever ran are read too.
      await this.redis.xgroup("CREATE", this.keys.webhooks, routingGroup, "0", "MKSTREAM");
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("BUSYGROUP")) throw error;
    }
  }

  /**
   * Up to `count` webhooks no worker has read yet, waiting at most `blockMs` for the first, on
   * `blocking`: a connection of its own, since a blocked read holds its connection.
   */
  async read(blocking: RedisClient, count: number, blockMs: number): Promise<StoredWebhook[]> {
    const answer = (await blocking.xreadgroup(
      "GROUP",
      routingGroup,
      this.consumer,
      "COUNT",
      count,
      "BLOCK",
      blockMs,
      "STREAMS",
      this.keys.webhooks,
      ">",
    )) as [string, StreamEntry[]][] | null;
    return (answer?.[0]?.[1] ?? []).map(decode);
  }

  /**
   * Takes over webhooks another worker (or this one) read at least `minIdleMs` ago and never
   * finished: it stopped mid-way, or Redis failed under it. From `cursor` ("0-0" at first);
   * `next` is "0-0" once the whole group was looked through.
   */
  async claimStale(
    minIdleMs: number,
    count: number,
    cursor: string,
  ): Promise<{ stale: StoredWebhook[]; next: string }> {
    const [next, entries] = (await this.redis.xautoclaim(
      this.keys.webhooks,
      routingGroup,
      this.consumer,
      minIdleMs,
      cursor,
      "COUNT",
      count,
    )) as [string, (StreamEntry | null)[]];
    return { stale: entries.filter((entry): entry is StreamEntry => entry !== null).map(decode), next };
  }

  /**
   * Tells the group this worker still has these in hand: a batch that takes longer than the
   * stale time (Redis stalling under it) is not taken over while it is still being routed.
   */
  async keepClaimed(streamIds: string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await this.redis.call("XCLAIM", this.keys.webhooks, routingGroup, this.consumer, 0, ...streamIds, "JUSTID");
  }

  /** Marks webhooks routed and deletes them, at once: the stream holds only what is not routed yet. */
  async markRouted(streamIds: string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await this.redis
      .multi()
      .xack(this.keys.webhooks, routingGroup, ...streamIds)
      .xdel(this.keys.webhooks, ...streamIds)
      .exec();
  }

  /** Moves entries that are not webhooks to a capped stream of their own, to be looked into. */
  async setAside(unreadable: StoredWebhook[]): Promise<void> {
    if (unreadable.length === 0) return;
    const ids = unreadable.map(({ streamId }) => streamId);
    const transaction = this.redis.multi();
    for (const { streamId, entry } of unreadable) {
      transaction.xadd(
        this.keys.unreadableWebhooks,
        "MAXLEN",
        "~",
        keepUnreadable,
        "*",
        "streamId",
        streamId,
        "entry",
        entry,
      );
    }
    await transaction
      .xack(this.keys.webhooks, routingGroup, ...ids)
      .xdel(this.keys.webhooks, ...ids)
      .exec();
  }

  /**
   * Forgets the group's consumers that hold nothing and were idle for `idleMs`: each process
   * joins under a new name, and the names of stopped ones would otherwise stay for ever.
   */
  async forgetIdleConsumers(idleMs: number): Promise<void> {
    const consumers = (await this.redis.xinfo("CONSUMERS", this.keys.webhooks, routingGroup)) as unknown[][];
    for (const fields of consumers) {
      const info = fieldMap(fields);
      if (info.name !== this.consumer && Number(info.pending) === 0 && Number(info.idle) >= idleMs)
        await this.redis.xgroup("DELCONSUMER", this.keys.webhooks, routingGroup, String(info.name));
    }
  }

  /**
   * How many webhooks wait (not read by a worker yet), how many a worker holds, and how long the
   * oldest has waited. An entry's id starts with the time Redis stored it.
   */
  async depth(): Promise<{ waiting: number; routing: number; oldestSeconds: number }> {
    const key = this.keys.webhooks;
    const [length, pending, oldest] = await Promise.all([
      this.redis.xlen(key),
      this.redis.xpending(key, routingGroup).catch(() => [0]) as Promise<unknown[]>,
      this.redis.xrange(key, "-", "+", "COUNT", 1),
    ]);
    const routing = Number(pending[0] ?? 0);
    const storedAt = oldest[0] ? idTime(oldest[0][0]) : undefined;
    return {
      waiting: Math.max(0, length - routing),
      routing,
      oldestSeconds: storedAt ? Math.max(0, (Date.now() - storedAt) / 1000) : 0,
    };
  }

  /**
   * Whether the webhook with this receipt id still waits for routing: looked for among the
   * entries Redis stored from a minute before its receipt time to a minute after (clocks of
   * two machines differ), a page at a time, at most `maxPages` pages. A diagnostic for `try`,
   * not a lookup for the hot path.
   */
  async isWaitingForRouting(receiptId: string, receivedAt: string, maxPages = 20): Promise<boolean> {
    const at = Date.parse(receivedAt) || Date.now();
    const pageSize = 500;
    let from = `${Math.max(0, at - 60_000)}-0`;
    for (let page = 0; page < maxPages; page++) {
      const entries = (await this.redis.xrange(this.keys.webhooks, from, "+", "COUNT", pageSize)) as StreamEntry[];
      if (entries.some(([, fields]) => fieldMap(fields).receipt === receiptId)) return true;
      const last = entries.at(-1)?.[0];
      if (entries.length < pageSize || !last || idTime(last) > at + 60_000) return false;
      from = `(${last}`;
    }
    return false;
  }
}

/** The moment (ms) Redis stored the entry with this id. */
function idTime(streamId: string): number {
  return Number(streamId.split("-")[0]);
}

function decode([streamId, fields]: StreamEntry): StoredWebhook {
  const entry = String(fieldMap(fields).webhook ?? "");
  try {
    const webhook = JSON.parse(entry) as InboundJob;
    return webhook?.receipt?.id ? { streamId, webhook, entry } : { streamId, entry };
  } catch {
    return { streamId, entry };
  }
}

/** A reply of field, value, field, value … as an object. */
function fieldMap(fields: unknown[]): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[String(fields[i])] = fields[i + 1];
  return map;
}
