import { Writable } from "node:stream";
import type { Redis } from "ioredis";
import type { Config } from "../../src/config/schema.js";
import type { HistoryReader } from "../../src/history/history-reader.js";
import { type HistoryTools, historyTools } from "../../src/history/history-tools.js";
import type { WebhookStory } from "../../src/history/story.js";
import { createLogger } from "../../src/log.js";
import { DeadLetters } from "../../src/queue/dead-letters.js";
import { openDeliveryQueue, relayKeys } from "../../src/queue/queues.js";
import { buildParts } from "../../src/relay-parts.js";
import { waitFor } from "./wait.js";

/**
 * The history's tools (`events`, `ticket`, `events replay`, `events forget`) on a relay's Redis,
 * opened as the CLI opens them (commands/relay-state.ts): the dead letters and the delivery
 * queue of that prefix, the config's sources and routes.
 */
export function openHistoryTools(redis: Redis, config: Config): { tools: HistoryTools; close(): Promise<void> } {
  const queue = openDeliveryQueue(config.redis);
  const deadLetters = new DeadLetters(queue, relayKeys(config.redis.prefix), config.targets);
  const parts = buildParts(config, { withTargets: false });
  const logger = createLogger({ level: "warn", destination: new Writable({ write: (_c, _e, done) => done() }) });
  const tools = historyTools({ redis, parts: () => parts, deadLetters, deliveries: queue, logger });
  return { tools, close: () => queue.close() };
}

/** A webhook's story once `settled` says it is, read again until then. */
export async function storyWhen(
  reader: HistoryReader,
  receipt: string,
  settled: (story: WebhookStory) => boolean,
  what = `the story of ${receipt}`,
): Promise<WebhookStory> {
  return waitFor(
    async () => {
      const story = await reader.show(receipt);
      return story !== undefined && settled(story) ? story : undefined;
    },
    { what },
  );
}

/** One Redis key with everything it holds, as text: names, members, fields, values and scores. */
export interface KeyContents {
  key: string;
  type: string;
  text: string;
}

/**
 * Every key matching `pattern` and all it holds, whatever its type: what a test reads to prove
 * that something (a secret, a forgotten ticket) is nowhere in Redis.
 */
export async function everyKey(redis: Redis, pattern = "*"): Promise<KeyContents[]> {
  const keys = new Set<string>();
  let cursor = "0";
  do {
    const [next, found] = await redis.scan(cursor, "MATCH", pattern, "COUNT", 1000);
    cursor = next;
    for (const key of found) keys.add(key);
  } while (cursor !== "0");
  const contents: KeyContents[] = [];
  for (const key of keys) {
    const type = await redis.type(key);
    contents.push({ key, type, text: JSON.stringify(await contentsOf(redis, key, type)) });
  }
  return contents;
}

async function contentsOf(redis: Redis, key: string, type: string): Promise<unknown> {
  switch (type) {
    case "string":
      return redis.get(key);
    case "hash":
      return redis.hgetall(key);
    case "list":
      return redis.lrange(key, 0, -1);
    case "set":
      return redis.smembers(key);
    case "zset":
      return redis.zrange(key, "0", "-1", "WITHSCORES");
    case "stream":
      return redis.xrange(key, "-", "+");
    case "none":
      return null; // gone between the scan and the read
    default:
      throw new Error(`key ${key} is a ${type}, which everyKey cannot read`);
  }
}
