import { z } from "zod";
import { isMatchKey, matchFieldNames } from "../routing/fields.js";
import { durationPattern, parseDuration } from "./duration.js";
import { closestName } from "./errors.js";

/**
 * A target's `digest:` (docs/configuration.md, "Digests"): the events that reach the target
 * within `window` of the first one are sent as one message per group, listing at most `max`
 * of them. The work is done by queue/delivery/digests.ts; here the keys are checked and defaulted.
 */

/**
 * Every field a digest can group by: `type` (the event type, which routes call `event`), the
 * route's name, or any field a route can match on, `payload.<path>` included.
 */
export const digestGroupFields = ["type", "route", ...matchFieldNames] as const;

const groupField = z.string().superRefine((key, context) => {
  if (key === "type" || key === "route" || isMatchKey(key)) return;
  const guess = closestName(key, [...digestGroupFields]);
  const hint = guess
    ? ` — did you mean "${guess}"?`
    : " (route, a match field from docs/configuration.md, or payload.<path>)";
  context.addIssue({ code: "custom", message: `unknown groupBy field "${key}"${hint}` });
});

/** Milliseconds: a number, or "500ms", "2s", "2m"; a window is from 100 ms to a day. */
const window = z
  .union([
    z.number().int(),
    z.string().regex(durationPattern, 'use a duration like "30s", "2m" or "1h"').transform(parseDuration),
  ])
  .pipe(z.number().min(100, "use at least 100ms").max(86_400_000, "use at most 1d"));

export const defaultDigest = { window: 120_000, max: 50, groupBy: ["type"] };

export const digestSchema = z
  .strictObject({
    /** How long after its first event a window closes and its digest is sent. */
    window: window.default(defaultDigest.window),
    /** The most events one digest lists one by one; the rest are counted ("… and 350 more"). */
    max: z.number().int().min(1).max(500).default(defaultDigest.max),
    /** One digest per distinct combination of these fields' values. */
    groupBy: z.array(groupField).default(defaultDigest.groupBy),
  })
  .optional();

export type DigestConfig = NonNullable<z.infer<typeof digestSchema>>;
