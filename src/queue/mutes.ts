import type { Queue } from "bullmq";
import { closestName } from "../config/errors.js";
import type { RedisClient } from "../redis/connector.js";
import type { DeliveryJob } from "./jobs.js";
import type { RelayKeys } from "./queues.js";

/**
 * Mutes: a target, or a route, switched off for a while by hand (`ticket-relay mute`,
 * `/admin/mutes`) without editing the config. Kept in Redis, so every worker sees them and a
 * restart forgets none, each with its end; past it a mute is gone by itself. While a mute
 * lasts, its deliveries are held (queue/delivery/mute-hold.ts) and sent when it ends, or dropped.
 */

export type MuteKind = "target" | "route";

export interface Mute {
  kind: MuteKind;
  /** The target id, or the route's name as logs show it (`routes[2]` for one without a name). */
  name: string;
  /** ISO time the mute ends. */
  until: string;
  /** ISO time it was set. */
  since: string;
  reason?: string;
  /** Deliveries are dropped while it lasts instead of held. */
  drop: boolean;
}

/** A mute as listed: with how many deliveries it holds back now. */
export type ListedMute = Mute & { held: number };

/** `target:crm`, `route:office`: a mute's field in the hash, and how people may name one. */
export function muteId(mute: Pick<Mute, "kind" | "name">): string {
  return `${mute.kind}:${mute.name}`;
}

/**
 * What a name given to `mute`/`unmute` refers to: a target id or a route name of the config,
 * or either written out as `target:<id>` / `route:<name>` (needed when a target and a route
 * share the name). `muted` lets a mute be lifted whose target or route left the config.
 */
export function resolveMuteSubject(
  given: string,
  config: { targets: readonly string[]; routes: readonly string[] },
  muted: readonly Pick<Mute, "kind" | "name">[] = [],
): { kind: MuteKind; name: string } | { problem: string } {
  const explicit = /^(target|route):(.+)$/.exec(given);
  if (explicit) {
    const kind = explicit[1] as MuteKind;
    const name = explicit[2] as string;
    const known = kind === "target" ? config.targets : config.routes;
    if (known.includes(name) || muted.some((mute) => mute.kind === kind && mute.name === name)) return { kind, name };
    const guess = closestName(name, known);
    return { problem: `no ${kind} "${name}" in the config${guess ? ` — did you mean "${kind}:${guess}"?` : ""}` };
  }
  const isTarget = config.targets.includes(given);
  const isRoute = config.routes.includes(given);
  if (isTarget && isRoute) {
    return { problem: `"${given}" is both a target and a route: say target:${given} or route:${given}` };
  }
  if (isTarget) return { kind: "target", name: given };
  if (isRoute) return { kind: "route", name: given };
  const lingering = muted.filter((mute) => mute.name === given);
  if (lingering.length === 1) return lingering[0] as Mute;
  const guess = closestName(given, [...config.targets, ...config.routes]);
  const hint = guess ? ` — did you mean "${guess}"?` : ` (targets: ${config.targets.join(", ") || "none"})`;
  return { problem: `no target or route "${given}" in the config${hint}` };
}

/** A held delivery's id stays in its mute's set this long past the mute's planned end. */
const heldKeptPastEndMs = 3_600_000;
const deleteIfUnchanged = `if redis.call("HGET", KEYS[1], ARGV[1]) == ARGV[2] then return redis.call("HDEL", KEYS[1], ARGV[1]) end return 0`;
/** Promotions sent to Redis at once when a mute is lifted. */
const releaseBatch = 100;

export class Mutes {
  /**
   * Read for every delivery: a short in-process cache keeps that off Redis. A new mute reaches
   * every worker within this long; a lifted one at once, since a delivery that looks muted
   * reads again before it is held.
   */
  static readonly cacheMs = 1000;
  #cache: { at: number; mutes: Mute[] } | undefined;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
    /** Where held deliveries wait; needed to release them (mute, unmute), not to list. */
    private readonly deliveries?: Queue<DeliveryJob>,
  ) {}

  /**
   * Mutes a target or route for `forMs` from now, replacing a mute it already has: its held
   * deliveries are then released, to be held again until the new end (or sent, or dropped).
   */
  async mute(
    subject: { kind: MuteKind; name: string },
    options: { forMs: number; reason?: string; drop?: boolean },
    now = Date.now(),
  ): Promise<{ mute: Mute; replaced: boolean }> {
    const mute: Mute = {
      ...subject,
      until: new Date(now + options.forMs).toISOString(),
      since: new Date(now).toISOString(),
      ...(options.reason ? { reason: options.reason } : {}),
      drop: options.drop ?? false,
    };
    const added = await this.redis.hset(this.keys.mutes, muteId(mute), JSON.stringify(mute));
    this.#cache = undefined;
    if (added === 0) await this.release(mute);
    return { mute, replaced: added === 0 };
  }

  /** Lifts a mute and releases what it held, to be sent now. */
  async unmute(subject: { kind: MuteKind; name: string }): Promise<{ removed: boolean; released: number }> {
    const removed = (await this.redis.hdel(this.keys.mutes, muteId(subject))) > 0;
    this.#cache = undefined;
    return { removed, released: await this.release(subject) };
  }

  /** The mutes in force, soonest end first; ended ones are removed on the way. */
  async active(now = Date.now()): Promise<Mute[]> {
    const all = await this.redis.hgetall(this.keys.mutes);
    const mutes: Mute[] = [];
    for (const [field, json] of Object.entries(all)) {
      const mute = JSON.parse(json) as Mute;
      if (Date.parse(mute.until) > now) mutes.push(mute);
      // Only if unchanged: a mute set again since it was read must stay.
      else await this.redis.eval(deleteIfUnchanged, 1, this.keys.mutes, field, json);
    }
    return mutes.sort((a, b) => Date.parse(a.until) - Date.parse(b.until));
  }

  async list(now = Date.now()): Promise<ListedMute[]> {
    const mutes = await this.active(now);
    return Promise.all(
      mutes.map(async (mute) => ({ ...mute, held: await this.redis.scard(this.keys.mutedDeliveries(muteId(mute))) })),
    );
  }

  /** The mutes on this target or route now; from the cache unless `fresh`. */
  async on(targetId: string, route: string, options: { fresh?: boolean } = {}): Promise<Mute[]> {
    const now = Date.now();
    if (options.fresh || !this.#cache || now - this.#cache.at > Mutes.cacheMs) {
      this.#cache = { at: now, mutes: await this.active(now) };
    }
    return this.#cache.mutes.filter(
      (mute) =>
        Date.parse(mute.until) > now &&
        ((mute.kind === "target" && mute.name === targetId) || (mute.kind === "route" && mute.name === route)),
    );
  }

  /** Notes that these mutes hold a delivery; true the first time, so it is logged once. */
  async noteHeld(mutes: readonly Mute[], deliveryId: string): Promise<boolean> {
    let first = false;
    for (const mute of mutes) {
      const key = this.keys.mutedDeliveries(muteId(mute));
      const [[, added]] = (await this.redis
        .multi()
        .sadd(key, deliveryId)
        .pexpireat(key, Date.parse(mute.until) + heldKeptPastEndMs)
        .exec()) as [[Error | null, number], [Error | null, number]];
      if (added === 1) first = true;
    }
    return first;
  }

  /** Moves the deliveries a mute holds back to the queue now; how many were waiting. */
  async release(subject: { kind: MuteKind; name: string }): Promise<number> {
    if (!this.deliveries) return 0;
    const key = this.keys.mutedDeliveries(muteId(subject));
    const ids = await this.redis.smembers(key);
    let released = 0;
    for (let start = 0; start < ids.length; start += releaseBatch) {
      const promoted = await Promise.all(ids.slice(start, start + releaseBatch).map((id) => this.#promote(id)));
      released += promoted.filter(Boolean).length;
    }
    // Only these: a delivery released above may be held again (by a new mute) meanwhile.
    if (ids.length > 0) await this.redis.srem(key, ...ids);
    return released;
  }

  /** True when the delivery was waiting and now is not. */
  async #promote(deliveryId: string): Promise<boolean> {
    const job = await this.deliveries?.getJob(deliveryId);
    if (!job || !(await job.isDelayed())) return false;
    // It may have been taken meanwhile (its hold ended): then there is nothing to release.
    return job.promote().then(
      () => true,
      () => false,
    );
  }
}

/** The names `mute` takes: target ids, and route names as deliveries carry them. */
export function muteSubjects(config: { targets: Record<string, unknown>; routes: readonly { name?: string }[] }): {
  targets: string[];
  routes: string[];
} {
  return {
    targets: Object.keys(config.targets),
    routes: config.routes.map((route, index) => route.name ?? `routes[${index}]`),
  };
}
