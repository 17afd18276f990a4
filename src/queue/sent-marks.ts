import type { Redis } from "ioredis";
import type { RelayKeys } from "./queues.js";

/** Longer than any retry schedule lets a delivery live, so a late re-run still finds the mark. */
const rememberSentForMs = 3 * 24 * 60 * 60 * 1000;

/**
 * A mark that a delivery was accepted by its target, written right after the target said yes
 * and before the job is marked done. A worker that dies between the two leaves the job to be
 * run again; the re-run finds the mark and does not send a second Slack post or email. What
 * is left is the moment between the target's yes and this write (one Redis round trip).
 */
export class SentMarks {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RelayKeys,
  ) {}

  async mark(deliveryId: string, detail: string): Promise<void> {
    await this.redis.set(this.keys.sent(deliveryId), detail, "PX", rememberSentForMs);
  }

  /** What the target said when it accepted this delivery, if it did. */
  async find(deliveryId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.sent(deliveryId))) ?? undefined;
  }
}
