import { resolve } from "node:path";
import type { SpoolConfig } from "../config/spool-schema.js";
import type { Logger } from "../log.js";
import type { IntakeFallback } from "../queue/inbound/intake.js";
import type { WebhookStream } from "../queue/inbound/webhook-stream.js";
import type { RedisClient } from "../redis/connections.js";
import { Spool, type SpoolDepth } from "./spool.js";
import { type RedisLink, SpoolDrainer } from "./spool-drainer.js";
import { SpoolFallback } from "./spool-fallback.js";

/** The spool as ingest runs it: where webhooks go while Redis is away, and what drains them. */
export interface IngestSpool {
  fallback: IntakeFallback;
  depth(): SpoolDepth;
  /** Stops draining and closes the files; call once no request can append any more. */
  close(): Promise<void>;
}

/** Opens `spool.dir` and starts draining what an earlier run left in it, on ingest's connection. */
export async function openIngestSpool(
  config: SpoolConfig,
  redis: RedisClient & RedisLink,
  stream: WebhookStream,
  logger: Logger,
): Promise<IngestSpool> {
  const dir = resolve(config.dir);
  const spool = await Spool.open({ dir, maxBytes: config.maxBytes }, logger);
  const drainer = new SpoolDrainer(spool, stream, redis, logger);
  drainer.start();
  logger.info(
    { dir, maxBytes: config.maxBytes, ...spool.depth },
    "spool ready: webhooks Redis cannot take are written here",
  );
  return {
    fallback: new SpoolFallback(spool, redis, logger),
    depth: () => spool.depth,
    async close() {
      await drainer.close();
      await spool.close();
    },
  };
}
