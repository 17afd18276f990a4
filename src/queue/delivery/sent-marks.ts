import { execAll, type RedisClient } from "../../redis/connections.js";
import type { RelayKeys } from "../queues.js";
import { SameTickBatch } from "../same-tick-batch.js";

/** Longer than any retry schedule lets a delivery live, so a late re-run still finds the mark. */
export const rememberSentForMs = 3 * 24 * 60 * 60 * 1000;

/**
 * A sent mark to write, as SentMarks makes it: where, what the target said, for how long. It is
 * written by `write`, or by the script that ends the delivery's turn in its ticket's order
 * (TicketOrder.endTurn), so that the two cost one Redis call; either way it is this mark.
 */
export interface SentMark {
  key: string;
  detail: string;
  ttlMs: number;
}

/**
 * The one owner of the marks that a delivery was accepted by its target, written right after
 * the target said yes and before the job is marked done. A worker that dies between the two
 * leaves the job to be run again; the re-run finds the mark and does not send a second Slack
 * post or email. What is left is the moment between the target's yes and this write (the rest
 * of the event-loop tick in which marks are gathered, and one Redis round trip).
 */
export class SentMarks {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  /** The marks of deliveries finishing in the same tick of the event loop go in one pipeline. */
  readonly #marks = new SameTickBatch<SentMark, void>(async (marks) => {
    const pipeline = this.redis.pipeline();
    for (const { key, detail, ttlMs } of marks) pipeline.set(key, detail, "PX", ttlMs);
    await execAll(pipeline);
    return marks.map(() => undefined);
  });

  /** The mark of this delivery, accepted with what its target said: to write here or with its turn's end. */
  markOf(deliveryId: string, detail: string): SentMark {
    return { key: this.keys.sent(deliveryId), detail, ttlMs: rememberSentForMs };
  }

  /** Resolves once Redis holds the mark. */
  write(mark: SentMark): Promise<void> {
    return this.#marks.call(mark);
  }

  /** What the target said when it accepted this delivery, if it did. */
  async find(deliveryId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.sent(deliveryId))) ?? undefined;
  }
}
