import { z } from "zod";
import { durationPattern, parseDuration } from "./duration.js";

/**
 * The config keys of per-ticket ordering and per-channel pacing (docs/targets/slack.md,
 * "Order and pace"), spread into the target schemas in config/schema.ts.
 */

/** Every target: what happens to an event older than one already delivered for its ticket. */
export const staleEventKeys = {
  /** True: such a late event is dropped; false (the default): delivered, marked as late. */
  dropStale: z.boolean().optional(),
};

/** Slack: the least time between two deliveries to one channel, shared by every worker; 0 is no pacing. */
export const slackPaceKeys = {
  pace: z
    .union([
      z.number().int().nonnegative(),
      z.string().regex(durationPattern, 'use a duration like "1s" or "500ms"').transform(parseDuration),
    ])
    .default(1000),
};
