import type { RedisClient } from "../redis/connector.js";
import type { HistoryKeys } from "./history-keys.js";
import { outcomes, type WebhookRecord } from "./records.js";

/** Records removed per round: bounds one pipeline's size and how long it holds Redis. */
const perRound = 500;

/**
 * Keeps the history within `history.maxWebhooks` and `history.maxAge`, and forgets a ticket on
 * request. A record is removed with every index entry pointing at it, so that nothing of it is
 * left: its indexes are read from the record itself. A record that expired on its own (no worker
 * ran to trim it) leaves index entries, which the sweep by age removes.
 */
export class HistoryRetention {
  #running: Promise<number> | undefined;
  #again = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: HistoryKeys,
    private readonly settings: { maxWebhooks: number; maxAge: number },
  ) {}

  /** Trims now, or right after the trim under way: many callers, one trim at a time. */
  trimSoon(): Promise<number> {
    if (this.#running) {
      this.#again = true;
      return this.#running;
    }
    this.#running = this.trim().finally(() => {
      this.#running = undefined;
      if (this.#again) {
        this.#again = false;
        void this.trimSoon().catch(() => undefined);
      }
    });
    return this.#running;
  }

  /** Removes the records past `maxWebhooks` (the oldest) and past `maxAge`; returns how many. */
  async trim(now = Date.now()): Promise<number> {
    const cutoff = now - this.settings.maxAge;
    let removed = 0;
    for (;;) {
      // Those past the newest `maxWebhooks`, read in one call: a trim running beside this one (another
      // recorder's, another process's) reads the same ones, so the two never remove more than the excess.
      const { maxWebhooks } = this.settings;
      const oldest = await this.redis.zrevrange(this.keys.webhooks, maxWebhooks, maxWebhooks + perRound - 1);
      const expired = await this.redis.zrangebyscore(this.keys.webhooks, "-inf", String(cutoff), "LIMIT", 0, perRound);
      const ids = [...new Set([...oldest, ...expired])];
      if (ids.length === 0) break;
      removed += await this.remove(ids);
    }
    await this.#sweepIndexes(cutoff);
    return removed;
  }

  /** Removes every record of one ticket (and its kept bodies); returns how many webhooks. */
  async forgetTicket(ticketId: string): Promise<number> {
    const ticketKey = this.keys.ticket(ticketId);
    const ids = await this.redis.zrange(ticketKey, "0", "-1");
    const removed = ids.length > 0 ? await this.remove(ids) : 0;
    await this.redis.del(ticketKey);
    return removed;
  }

  /** Removes these webhooks' records, bodies and index entries. */
  async remove(receiptIds: readonly string[]): Promise<number> {
    const reads = this.redis.pipeline();
    for (const id of receiptIds) reads.lindex(this.keys.webhook(id), 0);
    const firsts = (await reads.exec()) ?? [];
    const writes = this.redis.pipeline();
    for (const [index, id] of receiptIds.entries()) {
      const record = parseRecord(firsts[index]?.[1]);
      for (const key of record ? indexesOf(this.keys, record) : []) writes.zrem(key, id);
      for (const outcome of outcomes) writes.zrem(this.keys.by("outcome", outcome), id);
      writes.del(this.keys.webhook(id), this.keys.body(id));
      writes.zrem(this.keys.webhooks, id);
    }
    await writes.exec();
    return receiptIds.length;
  }

  /** Index entries older than `maxAge`: those of records that expired without a trim. */
  async #sweepIndexes(cutoff: number): Promise<void> {
    const indexes = await this.redis.smembers(this.keys.indexes);
    const sweep = this.redis.pipeline();
    for (const key of indexes) sweep.zremrangebyscore(key, "-inf", String(cutoff));
    if (indexes.length > 0) await sweep.exec();
  }
}

/** Every index a record is in, but the outcome indexes (which a step adds it to). */
export function indexesOf(keys: HistoryKeys, record: WebhookRecord): string[] {
  const indexes = new Set<string>([keys.by("source", record.source)]);
  for (const event of record.events) {
    indexes.add(keys.by("type", event.type));
    const conversation = event.ticketId ?? event.conversationId;
    if (conversation !== undefined) indexes.add(keys.ticket(conversation));
  }
  for (const delivery of record.deliveries) indexes.add(keys.by("target", delivery.target));
  return [...indexes];
}

function parseRecord(value: unknown): WebhookRecord | undefined {
  if (typeof value !== "string") return undefined;
  try {
    return JSON.parse(value) as WebhookRecord;
  } catch {
    return undefined;
  }
}
