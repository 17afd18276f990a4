/** A slot of a target this process holds in Redis, passed from delivery to delivery here. */
export interface Slot {
  /** The holder's id in the target's slots in Redis (queue/delivery/target-slots.ts). */
  id: string;
  targetId: string;
  /** When Redis last saw it: its lease renewed, or given out. */
  syncedAt: number;
}

/** A delivery of this process waiting here for a slot of its target. */
export interface Waiter {
  id: string;
  createdAt: number;
  /** Ends its wait: a slot handed over to it, or one free to ask Redis for. */
  answer: (answer: Slot | "askAgain") => void;
}

/**
 * The deliveries of this process waiting for a slot of their target, per target, oldest job
 * first (as the line of parked ones in Redis is), each for a bounded time.
 */
export class WaitingHere {
  readonly #waiting = new Map<string, Waiter[]>();

  /** Waits at most `ms`: a slot handed over, "askAgain" when one is free in Redis, else "timedOut". */
  wait(targetId: string, id: string, createdAt: number, ms: number): Promise<Slot | "askAgain" | "timedOut"> {
    return new Promise((resolve) => {
      const line = this.#waiting.get(targetId) ?? [];
      this.#waiting.set(targetId, line);
      const waiter: Waiter = {
        id,
        createdAt,
        answer: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      };
      const timer = setTimeout(() => {
        this.leave(targetId, waiter);
        resolve("timedOut");
      }, ms);
      const at = line.findIndex((other) => other.createdAt > createdAt);
      line.splice(at < 0 ? line.length : at, 0, waiter);
    });
  }

  /** The one that has waited longest for a slot of this target, if any. */
  first(targetId: string): Waiter | undefined {
    return this.#waiting.get(targetId)?.[0];
  }

  /** Takes a waiter out of the line; false when it was not there any more (its wait ended). */
  leave(targetId: string, waiter: Waiter): boolean {
    const line = this.#waiting.get(targetId);
    const index = line?.indexOf(waiter) ?? -1;
    if (!line || index < 0) return false;
    line.splice(index, 1);
    if (line.length === 0) this.#waiting.delete(targetId);
    return true;
  }
}
