import { resolveConfigPath } from "../config/load.js";
import type { Config } from "../config/schema.js";
import { type HistoryTools, historyTools } from "../history/history-tools.js";
import { createLogger } from "../log.js";
import { compileTemplates } from "../messages/templates.js";
import { DeadLetters } from "../queue/dead-letters.js";
import { SentMarks } from "../queue/delivery/sent-marks.js";
import { DeliveryProgressReader } from "../queue/delivery-progress.js";
import { DisabledTargets } from "../queue/disabled-targets.js";
import { WebhookStream } from "../queue/inbound/webhook-stream.js";
import { Mutes } from "../queue/mutes.js";
import { openDeliveryQueue, openInboundQueue, relayKeys } from "../queue/queues.js";
import { isRedisUnavailable } from "../redis/connections.js";
import { RedisConnector } from "../redis/connector.js";
import { embedded, runningEmbeddedRedis } from "../redis/embedded.js";
import { buildParts } from "../relay-parts.js";
import { loadOrReport } from "./load-config.js";

/** What the dlq and targets commands work on: the state a relay keeps in its Redis. */
export interface RelayState {
  config: Config;
  /** The config file, for messages. */
  file: string;
  deadLetters: DeadLetters;
  disabledTargets: DisabledTargets;
  /** Muted targets and routes (`mute`, `unmute`, `mutes`). */
  mutes: Mutes;
  /** Where the deliveries of an accepted webhook are (for `try`). */
  deliveryProgress: DeliveryProgressReader;
  /** What the history kept, replays from it, and forgetting a ticket (`events`, `ticket`). */
  history: HistoryTools;
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
  /**
   * `history`: the command reads the history (`events`, `ticket`). With `history.enabled: false`
   * the relay keeps nothing to read, so it says so before connecting and exits 1, rather than
   * answer "no webhooks" as if none had come.
   */
  needs: { history?: boolean } = {},
): Promise<number> {
  const file = resolveConfigPath(configFlag);
  const config = await loadOrReport(file);
  if (!config) return 1;
  if (needs.history && !config.history.enabled) {
    console.error(`history is off (history.enabled: false in ${file})`);
    return 1;
  }
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
  const connector = new RedisConnector(config.redis);
  const { where } = connector;
  const redis = connector.connect("command");
  // connect() and each command report their own failure; a refused TLS certificate only
  // arrives as an error event, and connect() then says no more than "Connection is closed".
  let cause: Error | undefined;
  redis.on("error", (error: Error) => {
    cause = error;
  });
  try {
    await redis.connect();
  } catch (error) {
    console.error(`cannot reach Redis at ${where} (redis in ${file}): ${(cause ?? (error as Error)).message}`);
    redis.disconnect();
    return 1;
  }
  const queue = openDeliveryQueue(config.redis, redis);
  queue.on("error", () => undefined); // each command's own failure says it
  const inbound = openInboundQueue(config.redis.prefix, redis);
  inbound.on("error", () => undefined);
  const keys = relayKeys(config.redis.prefix);
  const deadLetters = new DeadLetters(queue, keys, config.targets, compileTemplates(config));
  const parts = buildParts(config, { withTargets: false });
  // Warnings (a history write that failed) to stderr, apart from what the command prints.
  const logger = createLogger({ level: "warn", destination: process.stderr });
  try {
    return await work({
      config,
      file,
      deadLetters,
      disabledTargets: new DisabledTargets(redis, keys),
      mutes: new Mutes(redis, keys, queue),
      deliveryProgress: new DeliveryProgressReader(
        new WebhookStream(redis, keys),
        inbound,
        queue,
        new SentMarks(redis, keys),
      ),
      history: historyTools({ redis, parts: () => parts, deadLetters, deliveries: queue, logger }),
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
