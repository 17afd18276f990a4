import type { Redis } from "ioredis";
import { historyKeys } from "../../src/history/history-keys.js";
import { outcomes, type WebhookRecord } from "../../src/history/records.js";
import { indexesOf } from "../../src/history/retention.js";
import { memoryUsage, usedMemory } from "./redis-stats.js";

/** `history.maxWebhooks`'s default: what the memory figure is projected to. */
const defaultMaxWebhooks = 100_000;
const round = (value: number, places = 0) => Math.round(value * 10 ** places) / 10 ** places;

/**
 * What the history of one drain takes in Redis, per webhook: its record (a list), and its
 * entries in the indexes, each sorted set's MEMORY USAGE shared out over its members; then,
 * as a check, the `used_memory` given back when every history key is deleted.
 */
export async function historyMemory(redis: Redis, prefix: string, sampleSize: number) {
  const keys = historyKeys(prefix);
  const records = await redis.zcard(keys.webhooks);
  const sample = (await redis.zrandmember(keys.webhooks, sampleSize)) as string[];
  const perEntry = new Map<string, number>();
  const perEntryOf = async (key: string) => {
    let bytes = perEntry.get(key);
    if (bytes === undefined) {
      const [usage, members] = await Promise.all([memoryUsage(redis, key), redis.zcard(key)]);
      bytes = members > 0 ? usage / members : 0;
      perEntry.set(key, bytes);
    }
    return bytes;
  };
  const sum = { record: 0, body: 0, sharedIndexes: 0, ticketIndexes: 0, entries: 0, recordJson: 0 };
  /** One record as Redis holds it (its list's elements), to see what the bytes are. */
  let example: string[] = [];
  for (const id of sample) {
    const first = await redis.lindex(keys.webhook(id), 0);
    if (!first) continue;
    const record = JSON.parse(first) as WebhookRecord;
    sum.record += await memoryUsage(redis, keys.webhook(id));
    sum.body += await memoryUsage(redis, keys.body(id));
    const elements = await redis.lrange(keys.webhook(id), 0, -1);
    if (example.length === 0) example = elements;
    sum.recordJson += elements.reduce((bytes, element) => bytes + element.length, 0);
    const inOutcomes = [];
    for (const outcome of outcomes) {
      const index = keys.by("outcome", outcome);
      if ((await redis.zscore(index, id)) !== null) inOutcomes.push(index);
    }
    const tickets = new Set(
      record.events.flatMap(({ ticketId, conversationId }) => {
        const conversation = ticketId ?? conversationId;
        return conversation === undefined ? [] : [keys.ticket(conversation)];
      }),
    );
    for (const index of [keys.webhooks, ...indexesOf(keys, record), ...inOutcomes]) {
      const bytes = await perEntryOf(index);
      if (tickets.has(index)) sum.ticketIndexes += bytes;
      else sum.sharedIndexes += bytes;
      sum.entries += 1;
    }
  }
  const per = (value: number) => round(value / Math.max(1, sample.length));
  const perRecord = {
    record: per(sum.record),
    recordJson: per(sum.recordJson),
    body: per(sum.body),
    sharedIndexes: per(sum.sharedIndexes),
    ticketIndexes: per(sum.ticketIndexes),
    indexEntries: round(sum.entries / Math.max(1, sample.length), 1),
  };
  // The list of `by` indexes, shared out over the records: a few keys, unless it grows with them.
  const indexList = round((await memoryUsage(redis, keys.indexes)) / Math.max(1, records));
  const estimated = perRecord.record + perRecord.body + perRecord.sharedIndexes + perRecord.ticketIndexes + indexList;
  // The check: what Redis gives back when the history goes, expiry entries and all.
  const before = await usedMemory(redis);
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", `${prefix}:history:*`, "COUNT", 1000);
    cursor = next;
    if (found.length > 0) await redis.del(...found);
  } while (cursor !== "0");
  const freed = before - (await usedMemory(redis));
  return {
    records,
    sampled: sample.length,
    perRecord: { ...perRecord, indexList },
    bytesPerRecord: round(estimated),
    freedPerRecord: round(freed / Math.max(1, records)),
    defaultMaxWebhooks,
    megabytesAtDefault: round((estimated * defaultMaxWebhooks) / 1024 ** 2),
    example,
    megabytesFreedAtDefault: round((freed / Math.max(1, records)) * (defaultMaxWebhooks / 1024 ** 2)),
  };
}

export type HistoryMemory = Awaited<ReturnType<typeof historyMemory>>;

export function printMemory(memory: HistoryMemory) {
  const { perRecord } = memory;
  console.log(
    `history memory, ${memory.sampled} of ${memory.records} records (one event, three routes, one delivery, ` +
      `a ticket each): ${memory.bytesPerRecord} bytes per webhook = record ${perRecord.record} ` +
      `(its JSON ${perRecord.recordJson}) + body ${perRecord.body} + ${perRecord.indexEntries} index entries ` +
      `(${perRecord.sharedIndexes} in shared indexes, ${perRecord.ticketIndexes} its ticket's index) + ` +
      `${perRecord.indexList} its share of the list of indexes; ` +
      `used_memory freed deleting the history: ${memory.freedPerRecord} per webhook`,
  );
  console.log(
    `  history.maxWebhooks ${memory.defaultMaxWebhooks}: about ${memory.megabytesAtDefault} MB ` +
      `(${memory.megabytesFreedAtDefault} MB by used_memory freed)`,
  );
}
