import { Redis } from "ioredis";
import type { InboundJob } from "../../src/queue/jobs.js";
import { relayKeys } from "../../src/queue/queues.js";

/**
 * The webhooks a relay with this prefix has stored and not routed yet, read straight from its
 * webhook stream (src/queue/inbound/webhook-stream.ts), as a test checks what ingest wrote.
 */
export function storedWebhooks(url: string, prefix: string) {
  const redis = new Redis(url);
  const key = relayKeys(prefix).webhooks;
  return {
    count: () => redis.xlen(key),
    async all(): Promise<InboundJob[]> {
      const entries = await redis.xrange(key, "-", "+");
      return entries.map(([, fields]) => JSON.parse(fields[fields.indexOf("webhook") + 1] ?? "null") as InboundJob);
    },
    async close() {
      redis.disconnect();
    },
  };
}
