import { Redis } from "ioredis";
import { resolveConfigPath } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { compileTemplates } from "../messages/templates.js";
import { DeadLetters } from "../queue/dead-letters.js";
import { DeliveryProgressReader } from "../queue/delivery-progress.js";
import { DisabledTargets } from "../queue/disabled-targets.js";
import { openDeliveryQueue, openInboundQueue, relayKeys } from "../queue/queues.js";
import { SentMarks } from "../queue/sent-marks.js";
import { isRedisUnavailable, redisUrlWithoutPassword } from "../redis/connections.js";
import { embedded, runningEmbeddedRedis } from "../redis/embedded.js";
import { loadOrReport } from "./load-config.js";

/** What the dlq and targets commands work on: the state a relay keeps in its Redis. */
export interface RelayState {
  config: Config;
  /** The config file, for messages. */
  file: string;
  deadLetters: DeadLetters;
  disabledTargets: DisabledTargets;
  /** Where the deliveries of an accepted webhook are (for `try`). */
  deliveryProgress: DeliveryProgressReader;
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
  return withLoadedRelayState(config, file, work);
}

/** The same, for a command that has loaded the config already (`try`, which posts before it follows). */
export async function withLoadedRelayState(
  config: Config,
  file: string,
  work: (state: RelayState) => Promise<number>,
): Promise<number> {
  if (config.redis.url === embedded) {
    const running = await runningEmbeddedRedis(config.redis.dataDir);
    if (!running) {
      console.error(
        `the relay's embedded Redis (redis.url: embedded in ${file}, data in ${config.redis.dataDir}) is not running: start the relay first (npm start)`,
      );
      return 1;
    }
    config.redis.url = running;
  }
  const where = redisUrlWithoutPassword(config.redis.url);
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
  const inbound = openInboundQueue(config.redis.prefix, redis);
  inbound.on("error", () => undefined);
  const keys = relayKeys(config.redis.prefix);
  try {
    return await work({
      config,
      file,
      deadLetters: new DeadLetters(queue, keys, config.targets, compileTemplates(config)),
      disabledTargets: new DisabledTargets(redis, keys),
      deliveryProgress: new DeliveryProgressReader(inbound, queue, new SentMarks(redis, keys)),
    });
  } catch (error) {
    if (!isRedisUnavailable(error)) throw error;
    console.error(`Redis at ${where} failed: ${(error as Error).message}`);
    return 1;
  } finally {
    await Promise.all([queue.close(), inbound.close()]).catch(() => undefined);
    redis.disconnect();
  }
}
