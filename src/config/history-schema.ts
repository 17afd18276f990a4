import { z } from "zod";
import { durationPattern, parseDuration } from "./duration.js";

const wholeNumber = z.union([z.number().int(), z.string().regex(/^\d+$/).transform(Number)]);

/**
 * `history`: what the relay keeps, in Redis, of every webhook it accepted and every delivery it
 * made of it (history/), for `ticket-relay events` and `ticket-relay ticket`. Bounded by age
 * and count, whichever comes first; read at start only.
 */
export const historySchema = z
  .strictObject({
    /** False records nothing: the commands then say that history is off. */
    enabled: z.boolean().default(true),
    /** A webhook's record is removed this long after it was received. */
    maxAge: z
      .union([
        z.number().int().positive(),
        z.string().regex(durationPattern, 'use a duration like "1h" or "7d"').transform(parseDuration),
      ])
      .default(7 * 24 * 3600_000),
    /** At most this many webhooks are kept; the oldest go first. */
    maxWebhooks: wholeNumber.pipe(z.number().min(1, "must be at least 1")).default(100_000),
    /** How many refused requests are kept per source. */
    refused: wholeNumber.pipe(z.number().min(0)).default(1000),
    /**
     * Whether webhook bodies are kept: `all` keeps every body; `failures` keeps the platform's
     * JSON of an event whose delivery failed; `none` keeps none.
     */
    bodies: z.enum(["all", "failures", "none"]).default("failures"),
  })
  .prefault({});

export type HistoryConfig = z.infer<typeof historySchema>;
