import type { RedisClient } from "../redis/connector.js";
import type { RelayKeys } from "./queues.js";

interface PendingMark {
  key: string;
  detail: string;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** Longer than any retry schedule lets a delivery live, so a late re-run still finds the mark. */
const rememberSentForMs = 3 * 24 * 60 * 60 * 1000;

/**
 * A mark that a delivery was accepted by its target, written right after the target said yes
 * and before the job is marked done. A worker that dies between the two leaves the job to be
 * run again; the re-run finds the mark and does not send a second Slack post or email. What
 * is left is the moment between the target's yes and this write (the rest of the event-loop
 * turn in which marks are gathered, and one Redis round trip).
 */
export class SentMarks {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  #pending: PendingMark[] = [];

  /**
   * Resolves once Redis holds the mark. The marks of deliveries finishing in the same turn of
   * the event loop are written in one pipeline: one write and one round trip for all of them.
   */
  mark(deliveryId: string, detail: string): Promise<void> {
    return new Promise((resolve, reject) => {
      this.#pending.push({ key: this.keys.sent(deliveryId), detail, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => this.#writePending());
    });
  }

  #writePending(): void {
    const marks = this.#pending;
    this.#pending = [];
    const pipeline = this.redis.pipeline();
    for (const { key, detail } of marks) pipeline.set(key, detail, "PX", rememberSentForMs);
    pipeline.exec().then(
      (results) =>
        marks.forEach((mark, index) => {
          const error = results?.[index]?.[0];
          if (error) mark.reject(error);
          else mark.resolve();
        }),
      (error: unknown) => {
        for (const mark of marks) mark.reject(error);
      },
    );
  }

  /** What the target said when it accepted this delivery, if it did. */
  async find(deliveryId: string): Promise<string | undefined> {
    return (await this.redis.get(this.keys.sent(deliveryId))) ?? undefined;
  }
}
