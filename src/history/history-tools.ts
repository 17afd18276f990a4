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
import type { RefusedRequest, TakenAction } from "./records.js";
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
  /**
   * Notes on each dead letter replayed by `dlq replay` (or the console, or the admin API) that
   * it was: its story then reads failed, dead, replayed, and what came of it.
   */
  noteReplayed(deliveryIds: readonly string[], from: string): Promise<void>;
  /** An action taken by hand (a mute, a purge, an enable, a replay), newest first in `actions`. */
  recordAction(action: Omit<TakenAction, "at">): Promise<void>;
  /** The newest actions taken by hand. */
  actions(limit?: number): Promise<TakenAction[]>;
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
    noteReplayed: async (deliveryIds, from) => {
      await Promise.all(
        deliveryIds.map((id) => {
          // A delivery id starts with its webhook's receipt id (a UUID, without dots).
          const receipt = id.split(".")[0] ?? id;
          const target = id.split(".").at(-1) ?? "";
          return recorder.step(receipt, "", { at: Date.now(), d: id, target, kind: "replayed", from });
        }),
      );
    },
    recordAction: (action) => recorder.action({ at: new Date().toISOString(), ...action }),
    actions: (limit = 50) => reader.actions(limit),
  };
}
