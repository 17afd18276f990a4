import { z } from "zod";
import { parseSize, sizePattern } from "./duration.js";

/**
 * `spool`: where ingest writes webhooks Redis cannot take (spool/), or nothing when left out.
 * Read at start only: ingest owns its directory for as long as it runs.
 */
export const spoolSchema = z
  .strictObject({
    /** A directory of this ingest process's own, relative to the working directory. */
    dir: z.string().min(1, "must not be empty").default("data/spool"),
    /** Past this many bytes on disk, webhooks Redis cannot take get 503 again. */
    maxBytes: z
      .union([
        z.number().int().positive(),
        z.string().regex(sizePattern, 'use a size like "512mb" or "1gb"').transform(parseSize),
      ])
      .default(1024 ** 3),
  })
  .optional();

export type SpoolConfig = NonNullable<z.infer<typeof spoolSchema>>;
