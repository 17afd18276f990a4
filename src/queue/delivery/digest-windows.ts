import { randomBytes } from "node:crypto";
import type { RelayEvent } from "../../events.js";
import type { DigestEntry } from "../../messages/message.js";
import type { RedisClient } from "../../redis/connections.js";
import type { RelayKeys } from "../queues.js";
import { RedisScript } from "../redis-script.js";

/**
 * How long a window and the mark of each delivery that joined it are kept: far longer than a
 * window lasts, as long as a delivery's sent mark, so a delivery run again after a crash days
 * later still finds the window it joined, and a window whose workers were all down still waits.
 */
const keepMs = 3 * 24 * 60 * 60 * 1000;

/**
 * Joins a delivery to its group's open window, or opens one, atomically: every worker sees the
 * same window, and a delivery run again joins no second one (its mark says which it joined).
 * Only the first `max` events are listed; the others are counted.
 * KEYS: the open window, its list, its thread list, the delivery's mark. ARGV: a new window's
 * id, the listed entry, max, keepMs, the kept entry, the window's length, when it opens, its
 * group, and "1" when the event is kept for a thread reply.
 */
const joinWindow = new RedisScript(`
local joined = redis.call("GET", KEYS[4])
if joined then return {joined, "again"} end
local id = redis.call("HGET", KEYS[1], "id")
local status = "joined"
if not id then
  id = ARGV[1]
  status = "opened"
  redis.call("HSET", KEYS[1], "id", id, "first", ARGV[5], "windowMs", ARGV[6], "openedAt", ARGV[7], "group", ARGV[8])
end
local count = redis.call("HINCRBY", KEYS[1], "count", 1)
if count <= tonumber(ARGV[3]) then
  redis.call("RPUSH", KEYS[2], ARGV[2])
  redis.call("PEXPIRE", KEYS[2], ARGV[4])
end
if ARGV[9] == "1" then
  redis.call("RPUSH", KEYS[3], ARGV[5])
  redis.call("PEXPIRE", KEYS[3], ARGV[4])
end
redis.call("PEXPIRE", KEYS[1], ARGV[4])
redis.call("SET", KEYS[4], id, "PX", ARGV[4])
return {id, status}`);

/**
 * Closes a window, once: it moves aside under its own id, so the next event opens a new one
 * and a second run of the closing job finds it already moved. KEYS: the open window, its list,
 * its thread list, and the same three closed. ARGV: the window's id, when it closes.
 */
const closeWindow = new RedisScript(`
if redis.call("HGET", KEYS[1], "id") == ARGV[1] then
  redis.call("HSET", KEYS[1], "closedAt", ARGV[2])
  redis.call("RENAME", KEYS[1], KEYS[4])
  if redis.call("EXISTS", KEYS[2]) == 1 then redis.call("RENAME", KEYS[2], KEYS[5]) end
  if redis.call("EXISTS", KEYS[3]) == 1 then redis.call("RENAME", KEYS[3], KEYS[6]) end
end
return 1`);

/** An event as a window keeps it to send it again: its first one, and each one for a thread. */
export interface KeptEntry {
  event: RelayEvent;
  route: string;
}

export interface Joined {
  windowId: string;
  /** `opened` the window, `joined` it, or had joined it `again` before (a delivery run again). */
  status: "opened" | "joined" | "again";
  /** When the window opened (ms since the epoch). */
  openedAt: number;
}

/** What a closed window holds, read once it can change no more. */
export interface ClosedWindow {
  count: number;
  first: KeptEntry;
  listed: DigestEntry[];
  threads: KeptEntry[];
  group: Record<string, string>;
  windowMs: number;
  openedAt: string;
  closedAt: string;
}

/**
 * The digest windows of targets in Redis (keys `relayKeys.digest` and `relayKeys.digested`):
 * the atomic part of digests, kept here in one place; queue/delivery/digests.ts decides what to send.
 */
export class DigestWindows {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  async join(
    where: { targetId: string; groupKey: string; deliveryId: string },
    entry: { kept: KeptEntry; listed: DigestEntry; forThread: boolean },
    window: { windowMs: number; max: number; group: Record<string, string> },
  ): Promise<Joined> {
    const base = this.keys.digest(where.targetId, where.groupKey);
    const now = Date.now();
    const [windowId, status] = (await joinWindow.run(
      this.redis,
      [`${base}:open`, `${base}:open:listed`, `${base}:open:threads`, this.keys.digested(where.deliveryId)],
      [
        // Window ids start with the time the window opened, so whoever finds one knows when it ends.
        `${now}-${randomBytes(3).toString("hex")}`,
        JSON.stringify(entry.listed),
        window.max,
        keepMs,
        JSON.stringify(entry.kept),
        window.windowMs,
        new Date(now).toISOString(),
        JSON.stringify(window.group),
        entry.forThread ? "1" : "0",
      ],
    )) as [string, Joined["status"]];
    return { windowId, status, openedAt: Number(windowId.split("-")[0]) };
  }

  /** Closes the window (a no-op when it is closed already) and reads it; undefined once removed. */
  async close(targetId: string, groupKey: string, windowId: string): Promise<ClosedWindow | undefined> {
    const base = this.keys.digest(targetId, groupKey);
    const closed = this.closedKeys(targetId, groupKey, windowId);
    await closeWindow.run(
      this.redis,
      [`${base}:open`, `${base}:open:listed`, `${base}:open:threads`, ...closed],
      [windowId, new Date().toISOString()],
    );
    const [window, listed, threads] = await Promise.all([
      this.redis.hgetall(closed[0]),
      this.redis.lrange(closed[1], 0, -1),
      this.redis.lrange(closed[2], 0, -1),
    ]);
    if (!window.id) return undefined;
    const parse = <T>(text: string | undefined, empty: T): T => (text ? (JSON.parse(text) as T) : empty);
    return {
      count: Number(window.count),
      first: parse<KeptEntry>(window.first, { event: {} as RelayEvent, route: "" }),
      listed: listed.map((text) => parse<DigestEntry>(text, { event: {} as RelayEvent, route: "" })),
      threads: threads.map((text) => parse<KeptEntry>(text, { event: {} as RelayEvent, route: "" })),
      group: parse(window.group, {}),
      windowMs: Number(window.windowMs),
      openedAt: window.openedAt ?? "",
      closedAt: window.closedAt ?? "",
    };
  }

  /** Forgets a closed window, once what it sends is queued. */
  async remove(targetId: string, groupKey: string, windowId: string): Promise<void> {
    await this.redis.del(...this.closedKeys(targetId, groupKey, windowId));
  }

  private closedKeys(targetId: string, groupKey: string, windowId: string): [string, string, string] {
    const closed = `${this.keys.digest(targetId, groupKey)}:closed:${windowId}`;
    return [closed, `${closed}:listed`, `${closed}:threads`];
  }
}
