import { execAll, type RedisClient } from "../../redis/connections.js";
import type { RelayKeys } from "../queues.js";
import { SameTurnBatch } from "../same-turn-batch.js";

/** Longer than any retry schedule lets a delivery live, so a late re-run still finds the mark. */
export const rememberSentForMs = 3 * 24 * 60 * 60 * 1000;

/**
 * A mark that a delivery was accepted by its target, written right after the target said yes
 * and before the job is marked done. A worker that dies between the two leaves the job to be
 * run again; the re-run finds the mark and does not send a second Slack post or email. What
 * is left is the moment between the target's yes and this write (the rest of the event-loop
 * turn in which marks are gathered, and one Redis round trip). A delivery in a conversation's
 * order has its mark written with the end of its turn instead (TicketOrder.finish).
 */
export class SentMarks {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  /** The marks of deliveries finishing in the same turn of the event loop go in one pipeline. */
  readonly #marks = new SameTurnBatch<{ key: string; detail: string }, void>(async (marks) => {
    const pipeline = this.redis.pipeline();
    for (const { key, detail } of marks) pipeline.set(key, detail, "PX", rememberSentForMs);
    await execAll(pipeline);
    return marks.map(() => undefined);
  });

  /** Resolves once Redis holds the mark. */
  mark(deliveryId: string, detail: string): Promise<void> {
    return this.#marks.call({ key: this.keys.sent(deliveryId), detail });
  }

  /** What the target said when it accepted this delivery, if it did. */
  async find(deliveryId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.sent(deliveryId))) ?? undefined;
  }
}
