import { hash } from "node:crypto";

/** The facets a webhook is indexed by, besides its time and its tickets. */
export type Facet = "source" | "type" | "target" | "outcome";

/**
 * The history's Redis keys (history/), part of the relay's one key list (queue/queues.ts). Each
 * starts with the relay's prefix, a hash tag on a Cluster, so a pipeline over any of them stays
 * in one slot. Every key is bounded: records and ticket indexes expire after `history.maxAge`,
 * the indexes are trimmed with the records (history/retention.ts), refusals are capped lists.
 */
export function historyKeys(prefix: string) {
  const base = `${prefix}:history`;
  return {
    /** Sorted set: every recorded webhook's receipt id, by the ms it was received. */
    webhooks: `${base}:webhooks`,
    /**
     * List: one webhook's record (history/records.ts), its first element written when it was
     * routed, then one element per step of its deliveries, in the order they happened.
     */
    webhook: (receiptId: string) => `${base}:webhook:${receiptId}`,
    /**
     * Hash: the webhook's body in field `webhook` (`history.bodies: all`), or the events whose
     * delivery failed, each in a field of its event id (`failures`).
     */
    body: (receiptId: string) => `${base}:body:${receiptId}`,
    /** Sorted set: the webhooks of one ticket (or chat, or SMS customer), by time received. */
    ticket: (ticketId: string) => `${base}:ticket:${keyPart(ticketId)}`,
    /** Sorted set: the webhooks of one source, type, target or delivery outcome, by time received. */
    by: (facet: Facet, value: string) => `${base}:${facet}:${keyPart(value)}`,
    /** Set: every `by` index made, so that a sweep by age reaches those whose records expired. */
    indexes: `${base}:indexes`,
    /**
     * Hash with a TTL of a day and an hour: how many of one target's deliveries were delivered,
     * failed a try, gave up, were held or dropped in the hour `atMs` is in.
     */
    targetHour: (targetId: string, atMs: number) =>
      `${base}:stats:${keyPart(targetId)}:h:${Math.floor(atMs / 3_600_000) * 3_600_000}`,
    /** The same per five minutes, kept an hour and five minutes: "the last hour" to the minute. */
    targetFiveMinutes: (targetId: string, atMs: number) =>
      `${base}:stats:${keyPart(targetId)}:m:${Math.floor(atMs / 300_000) * 300_000}`,
    /** String with a TTL: one target's last failure, `{"at": ms, "failure": "…"}`. */
    targetLastError: (targetId: string) => `${base}:stats:${keyPart(targetId)}:last-error`,
    /** List, newest first, capped at a thousand: actions taken by hand (mutes, purges, replays, enables). */
    actions: `${base}:actions`,
    /** List, newest first, capped at `history.refused`: the requests one source refused. */
    refused: (sourceId: string) => `${base}:refused:${keyPart(sourceId)}`,
  };
}
export type HistoryKeys = ReturnType<typeof historyKeys>;

/**
 * A value chosen by whoever posts a webhook (a ticket id, an event type) becomes a key part only
 * when short and plain; anything else by its digest, so that a 100 KB ticket id cannot make a
 * 100 KB key.
 */
function keyPart(value: string): string {
  return /^[\w.@/-]{1,100}$/.test(value) ? value : `#${hash("sha256", value, "base64url")}`;
}
