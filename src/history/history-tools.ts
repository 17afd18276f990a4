import type { Queue } from "bullmq";
import type { Config } from "../config/schema.js";
import type { Logger } from "../log.js";
import type { DeadLetters } from "../queue/dead-letters.js";
import type { DeliveryJob } from "../queue/jobs.js";
import { deliveryPolicyFor } from "../queue/retry.js";
import type { RedisClient } from "../redis/connector.js";
import type { Router } from "../routing/router.js";
import type { Source } from "../sources/source.js";
import { type Forgotten, forgetTicket } from "./forget.js";
import { historyKeys } from "./history-keys.js";
import { HistoryReader } from "./history-reader.js";
import { HistoryRecorder } from "./recorder.js";
import type { RefusedRequest } from "./records.js";
import { Replays } from "./replay.js";
import { HistoryRetention } from "./retention.js";
import { readSourceStats, type SourceStats } from "./source-stats.js";
import { readTargetStats, type TargetStats } from "./target-stats.js";

/** Where requests to a source the config does not have are kept (http/refusals.ts). */
export const unknownSource = "(unknown)";

/**
 * What the `events` and `ticket` commands and the admin API do with the history, built in one
 * place so that both call the same functions: read it, replay from it, forget a ticket.
 */
export interface HistoryTools {
  reader: HistoryReader;
  replays: Replays;
  forget(ticketId: string): Promise<Forgotten>;
  /** The refused requests of one source, or of every source (and of unknown ones), newest first. */
  refused(source?: string): Promise<RefusedRequest[]>;
  /** What the console's overview shows: each target's last hour and day, each source's last hour. */
  overview(targets: readonly string[], sources: readonly string[], now?: number): Promise<HistoryOverview>;
}

export interface HistoryOverview {
  targets: TargetStats[];
  sources: SourceStats[];
}

export function historyTools(deps: {
  redis: RedisClient;
  /** The config in force: its sources, routes and targets, read at each call. */
  parts: () => { config: Config; sources: ReadonlyMap<string, Source>; router: Router };
  deadLetters: DeadLetters;
  deliveries: Queue<DeliveryJob>;
  logger: Logger;
}): HistoryTools {
  const { redis, parts } = deps;
  const config = parts().config;
  const keys = historyKeys(config.redis.prefix);
  const reader = new HistoryReader(redis, keys);
  const retention = new HistoryRetention(redis, keys, config.history);
  // A replay is recorded on the replayed delivery; a paused history still takes these few.
  const recorder = new HistoryRecorder(redis, keys, config.history, deps.logger, { paused: false });
  return {
    reader,
    replays: new Replays({
      reader,
      deadLetters: deps.deadLetters,
      deliveries: deps.deliveries,
      sources: () => parts().sources,
      router: () => parts().router,
      policyFor: (targetId) => deliveryPolicyFor(parts().config, targetId),
      recorder,
    }),
    forget: (ticketId) =>
      forgetTicket({ redis, prefix: config.redis.prefix, retention, deadLetters: deps.deadLetters }, ticketId),
    refused: (source) => reader.refused(source ? [source] : [...Object.keys(parts().config.sources), unknownSource]),
    overview: async (targets, sources, now = Date.now()) => {
      const [targetStats, sourceStats] = await Promise.all([
        readTargetStats(redis, keys, targets, now),
        readSourceStats(redis, keys, sources, now),
      ]);
      return { targets: targetStats, sources: sourceStats };
    },
  };
}
