import { Redis } from "ioredis";
import { resolveConfigPath } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { DeadLetters } from "../queue/dead-letters.js";
import { DisabledTargets } from "../queue/disabled-targets.js";
import { openDeliveryQueue, relayKeys } from "../queue/queues.js";
import { isRedisUnavailable } from "../queue/redis.js";
import { loadOrReport } from "./load-config.js";

/** What the dlq and targets commands work on: the state a relay keeps in its Redis. */
export interface RelayState {
  config: Config;
  /** The config file, for messages. */
  file: string;
  deadLetters: DeadLetters;
  disabledTargets: DisabledTargets;
}

/**
 * Loads the config, connects to its Redis, runs `work`, and disconnects. A command run by
 * hand or by a script must answer, not wait: one connection attempt, no offline queue, a
 * bound on every command. Unreachable Redis, or Redis failing mid-way, is exit 1 with a line
 * that says where it looked.
 */
export async function withRelayState(
  configFlag: string | undefined,
  work: (state: RelayState) => Promise<number>,
): Promise<number> {
  const file = resolveConfigPath(configFlag);
  const config = await loadOrReport(file);
  if (!config) return 1;
  const where = shownUrl(config.redis.url);
  const redis = new Redis(config.redis.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 3000,
    commandTimeout: 10_000,
    retryStrategy: () => null,
  });
  redis.on("error", () => undefined); // connect() and each command report their own failure
  try {
    await redis.connect();
  } catch (error) {
    console.error(`cannot reach Redis at ${where} (redis.url in ${file}): ${(error as Error).message}`);
    redis.disconnect();
    return 1;
  }
  const queue = openDeliveryQueue(config.redis, redis);
  queue.on("error", () => undefined); // each command's own failure says it
  const keys = relayKeys(config.redis.prefix);
  try {
    return await work({
      config,
      file,
      deadLetters: new DeadLetters(queue, keys, config.targets),
      disabledTargets: new DisabledTargets(redis, keys),
    });
  } catch (error) {
    if (!isRedisUnavailable(error)) throw error;
    console.error(`Redis at ${where} failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
  }
}

/** The URL without its password: messages are read over shoulders and pasted into tickets. */
function shownUrl(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*):[^@/]*@/, "$1:…@");
}
