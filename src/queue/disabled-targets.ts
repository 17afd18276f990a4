import type { RedisClient } from "../redis/connector.js";
import type { RelayKeys } from "./queues.js";

export interface Disabled {
  reason: string;
  /** ISO time. */
  since: string;
}

/**
 * Targets switched off because the far side said the endpoint is gone (HTTP 410). Kept in
 * Redis so that every worker stops sending at once and a restart does not forget it; only
 * `ticket-relay targets enable ID` switches a target back on.
 */
export class DisabledTargets {
  // Read for every delivery: a short in-process cache keeps that off Redis. A disable seen
  // by one worker reaches the others within this long.
  static readonly cacheMs = 2000;
  #cache: { at: number; disabled: Map<string, Disabled> } | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  async disable(targetId: string, reason: string): Promise<void> {
    const entry: Disabled = { reason, since: new Date().toISOString() };
    await this.redis.hset(this.keys.disabledTargets, targetId, JSON.stringify(entry));
    this.#cache = undefined;
  }

  /** True when the target was disabled. */
  async enable(targetId: string): Promise<boolean> {
    this.#cache = undefined;
    return (await this.redis.hdel(this.keys.disabledTargets, targetId)) > 0;
  }

  async list(): Promise<Map<string, Disabled>> {
    const all = await this.redis.hgetall(this.keys.disabledTargets);
    return new Map(Object.entries(all).map(([id, json]) => [id, JSON.parse(json) as Disabled]));
  }

  /** Why the target is disabled, or undefined; at most `cacheMs` out of date. */
  async check(targetId: string): Promise<Disabled | undefined> {
    if (!this.#cache || Date.now() - this.#cache.at > DisabledTargets.cacheMs) {
      this.#cache = { at: Date.now(), disabled: await this.list() };
    }
    return this.#cache.disabled.get(targetId);
  }
}
