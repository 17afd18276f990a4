import type { RedisClient } from "../../redis/connections.js";
import type { InboundJob } from "../jobs.js";
import type { RelayKeys } from "../queues.js";
import { RedisScript } from "../redis-script.js";
import { SameTickBatch } from "../same-tick-batch.js";

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
 * tick of the event loop. A webhook with a duplicate key is stored only if the key is new; the
 * key and the entry are written together, so a write that lands after ingest stopped waiting
 * still makes the sender's retry a duplicate.
 * A duplicate is counted on the original's history record, when the history is on and keeps
 * it (history/): a step appended to the record's list, and the record put in the `duplicate`
 * index. Those keys share the stream's prefix, so on a Cluster they are in its slot.
 * KEYS: the stream, then the seen key of each webhook that has one, in order.
 * ARGV: the history's record key prefix ("" when it is off), its `duplicate` index, its index
 * list, the time (ms) and the most elements a record keeps; then per webhook, its key's
 * lifetime in ms ("" for none), receipt id and entry.
 * Returns 1 (stored) or 0 (a duplicate) per webhook.
 */
const storeWebhooks = new RedisScript(`
local stream, nextKey, stored = KEYS[1], 2, {}
local records, duplicates, indexes, now, maxElements = ARGV[1], ARGV[2], ARGV[3], ARGV[4], tonumber(ARGV[5])
for i = 6, #ARGV, 3 do
  local ttl, receiptId, entry = ARGV[i], ARGV[i + 1], ARGV[i + 2]
  local new = true
  if ttl ~= "" then
    new = redis.call("SET", KEYS[nextKey], receiptId, "NX", "PX", ttl)
    if not new and records ~= "" then
      local original = redis.call("GET", KEYS[nextKey])
      if original and redis.call("RPUSHX", records .. original, '{"at":' .. now .. ',"kind":"duplicate"}') > 0 then
        redis.call("LTRIM", records .. original, 0, maxElements - 1)
        redis.call("ZADD", duplicates, "NX", now, original)
        redis.call("SADD", indexes, duplicates)
      end
    end
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

/** The history's keys a duplicate is counted in: record key prefix, `duplicate` index, index list. */
export interface DuplicateCount {
  records: string;
  index: string;
  indexes: string;
  maxElements: number;
}

/** Most bytes of webhooks in one script call: bounds how long one call holds Redis. */
const maxBytesPerStore = 1024 * 1024;
export type StreamEntry = [id: string, fields: string[]];

/**
 * Accepted webhooks wait for routing in a Redis Stream, not in a BullMQ queue: a stream entry
 * costs Redis one XADD to store and one XACK + XDEL once routed, where a BullMQ job costs an
 * add script, a move to active, a move to finished and their events, for every webhook. The
 * workers read it as one consumer group, many entries per read (queue/inbound/webhook-stream-consumer.ts).
 * Here: what ingest and the spool drainer store, and what metrics and `try` read of it.
 */
export class WebhookStream {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
    /** Where a duplicate is counted on its original, when the history is on (history/history-keys.ts). */
    private readonly duplicatesOn?: DuplicateCount,
  ) {}

  readonly #stores = new SameTickBatch<{ toStore: WebhookToStore; entry: string }, "stored" | "duplicate">(
    async (items) => {
      const keys = [this.keys.webhooks];
      const { duplicatesOn } = this;
      const args = duplicatesOn
        ? [
            duplicatesOn.records,
            duplicatesOn.index,
            duplicatesOn.indexes,
            String(Date.now()),
            String(duplicatesOn.maxElements),
          ]
        : ["", "", "", "0", "0"];
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

/** A stream entry as a worker reads it. */
export function decodeEntry([streamId, fields]: StreamEntry): StoredWebhook {
  const entry = String(fieldMap(fields).webhook ?? "");
  try {
    const webhook = JSON.parse(entry) as InboundJob;
    return webhook?.receipt?.id ? { streamId, webhook, entry } : { streamId, entry };
  } catch {
    return { streamId, entry };
  }
}

/** A reply of field, value, field, value … as an object. */
export function fieldMap(fields: unknown[]): Record<string, unknown> {
  const map: Record<string, unknown> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) map[String(fields[i])] = fields[i + 1];
  return map;
}
