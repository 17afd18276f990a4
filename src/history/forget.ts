import { Cluster } from "ioredis";
import type { DeadLetters } from "../queue/dead-letters.js";
import type { RedisClient } from "../redis/connector.js";
import type { HistoryRetention } from "./retention.js";

/** What forgetting a ticket removed. */
export interface Forgotten {
  /** Webhook records, with their kept bodies. */
  webhooks: number;
  /** Dead letters of the ticket, which hold its events. */
  deadLetters: number;
  /** What targets kept of the ticket's conversation (a Slack thread's root) and its order. */
  conversationKeys: number;
}

/**
 * Forgets one ticket, for a request to erase a customer's data: its history records and kept
 * bodies, its dead letters (which hold its events), and what targets keep of its conversation
 * (the Slack thread's root: a later event of the ticket starts a new thread). Deliveries still
 * in the queue are left to finish: they go out, or end as dead letters to purge.
 */
export async function forgetTicket(
  deps: { redis: RedisClient; prefix: string; retention: HistoryRetention; deadLetters: DeadLetters },
  ticketId: string,
): Promise<Forgotten> {
  const webhooks = await deps.retention.forgetTicket(ticketId);
  const letters = (await deps.deadLetters.list()).filter((letter) => letter.ticketId === ticketId);
  const purged =
    letters.length > 0 ? (await deps.deadLetters.purge({ ids: letters.map((letter) => letter.id) })).purged : 0;
  // A conversation's keys end in its key, `<source>/<community>/ticket/<id>`, or that and a suffix.
  const ticket = `/ticket/${globEscaped(ticketId)}`;
  const patterns = [`conversation`, `order`].flatMap((room) => [
    `${globEscaped(deps.prefix)}:${room}:*${ticket}`,
    `${globEscaped(deps.prefix)}:${room}:*${ticket}:*`,
  ]);
  const keys = new Set<string>();
  for (const pattern of patterns) for (const key of await scanAll(deps.redis, pattern)) keys.add(key);
  if (keys.size > 0) await deps.redis.del(...keys);
  return { webhooks, deadLetters: purged, conversationKeys: keys.size };
}

/** Every key matching `pattern`, on each primary of a Cluster. */
async function scanAll(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = redis instanceof Cluster ? redis.nodes("master") : [redis];
  const found: string[] = [];
  for (const node of nodes) {
    let cursor = "0";
    do {
      const [next, keys] = await node.scan(cursor, "MATCH", pattern, "COUNT", 1000);
      cursor = next;
      found.push(...keys);
    } while (cursor !== "0");
  }
  return found;
}

function globEscaped(text: string): string {
  return text.replace(/[*?[\]\\]/g, "\\$&");
}
