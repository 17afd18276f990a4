import type { Logger } from "../log.js";
import type { RedisClient } from "../redis/connector.js";

/**
 * History never competes with the queue for Redis memory: past this share of `maxmemory`,
 * recording pauses, and it resumes below `resumeBelow`, so that a Redis near its limit spends
 * what is left on webhooks and deliveries. Without a `maxmemory`, Redis sets no limit to stay
 * under, and recording never pauses (docs/operations.md, "History").
 */
export const pauseAbove = 0.8;
export const resumeBelow = 0.7;

/** What Redis says of its memory: `used_memory` and `maxmemory` (0: no limit), in bytes. */
export interface RedisMemory {
  used: number;
  max: number;
}

/**
 * Pauses the history's recording while Redis is near `maxmemory`, looked at when asked (every
 * few seconds, history/history.ts): one WARN line when it pauses, one INFO line when it resumes.
 */
export class MemoryGuard {
  #paused = false;

  constructor(
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {}

  get paused(): boolean {
    return this.#paused;
  }

  /** Reads Redis's memory once and pauses or resumes; a Redis that does not answer changes nothing. */
  async look(): Promise<void> {
    const memory = await readMemory(this.redis).catch(() => undefined);
    if (!memory || memory.max === 0) {
      if (memory && this.#paused) this.#resume(memory);
      return;
    }
    const share = memory.used / memory.max;
    if (!this.#paused && share > pauseAbove) {
      this.#paused = true;
      this.logger.warn(
        { usedBytes: memory.used, maxmemory: memory.max, pauseAbove },
        "Redis is near maxmemory: history recording paused; deliveries go on. Raise maxmemory, or lower history.maxWebhooks",
      );
    } else if (this.#paused && share < resumeBelow) {
      this.#resume(memory);
    }
  }

  #resume(memory: RedisMemory): void {
    this.#paused = false;
    this.logger.info(
      { usedBytes: memory.used, maxmemory: memory.max },
      "Redis has room again: history recording resumed",
    );
  }
}

export async function readMemory(redis: RedisClient): Promise<RedisMemory> {
  const info = await redis.info("memory");
  const field = (name: string) => Number(new RegExp(`^${name}:(\\d+)`, "m").exec(info)?.[1] ?? 0);
  return { used: field("used_memory"), max: field("maxmemory") };
}
