import type { InboundJob } from "../queue/jobs.js";

/** What a spool record holds: the webhook ingest would have stored, and its duplicate key. */
export interface SpooledWebhook extends InboundJob {
  /** The duplicate key, as ingest computed it; applied when the record is drained. */
  deduplication?: { id: string; ttl: number };
}

export function encodeSpooledWebhook(webhook: SpooledWebhook): Buffer {
  return Buffer.from(JSON.stringify(webhook), "utf8");
}

/** The record's webhook; throws when the record is not one (a record passed its checksum, so a bug). */
export function decodeSpooledWebhook(body: Buffer): SpooledWebhook {
  const webhook = JSON.parse(body.toString("utf8")) as SpooledWebhook;
  const { receipt } = webhook ?? {};
  if (typeof receipt?.id !== "string" || typeof receipt.source !== "string" || !("payload" in webhook)) {
    throw new Error("spool record is not a spooled webhook");
  }
  return webhook;
}
