import { Queue } from "bullmq";
import { workerConnectionOptions } from "../redis/connections.js";
import type { RedisClient } from "../redis/connector.js";
import { type DeliveryJob, deliveryQueueName, type InboundJob, inboundJobOptions, inboundQueueName } from "./jobs.js";

/**
 * The one place that names the relay's queues and Redis keys. Ingest, workers, the `dlq` and
 * `targets` commands and the admin API all open queues and build keys here, so a key's shape
 * is written once and every user of it agrees.
 */
export interface QueueSettings {
  /**
   * One Redis, for a queue opened without a connection (tests). The relay itself always passes
   * a connection from redis/connector.ts, which reaches a Cluster or Sentinel's primary too.
   */
  url: string;
  /** Starts every key: several relays can share one Redis. */
  prefix: string;
}

/**
 * Keys the relay keeps beside BullMQ's own. Each starts with `prefix`, which on a Redis Cluster
 * is a hash tag (`{relay}`, config/redis-schema.ts): every key here is then in the slot of
 * BullMQ's queue keys, so a script or MULTI over any of them never spans two slots.
 */
export function relayKeys(prefix: string) {
  return {
    /**
     * Stream: accepted webhooks not yet routed, one entry each (queue/inbound/webhook-stream.ts), read
     * by the workers' consumer group `routing`; an entry is deleted once its deliveries are queued.
     */
    webhooks: `${prefix}:webhooks`,
    /**
     * Stream, capped at about a thousand: entries of `webhooks` a worker could not read (a bug),
     * set aside to be looked into instead of deleted.
     */
    unreadableWebhooks: `${prefix}:webhooks:unreadable`,
    /** String with a TTL: a webhook with this duplicate key (its signed id or body digest) was stored. */
    webhookSeen: (duplicateKey: string) => `${prefix}:webhooks:seen:${duplicateKey}`,
    /** Hash: target id → why and when it was disabled (an HTTP 410 Gone). */
    disabledTargets: `${prefix}:targets:disabled`,
    /** String with a TTL: this delivery was accepted by its target (see queue/delivery/sent-marks.ts). */
    sent: (deliveryId: string) => `${prefix}:sent:${deliveryId}`,
    /**
     * Hash with a TTL: what a target keeps about one conversation, per slot (a Slack channel);
     * `:claim` and `:tally` beside it (see queue/delivery/conversation-state.ts).
     */
    conversation: (targetId: string, slot: string, conversationKey: string) =>
      `${prefix}:conversation:${targetId}:${slot}:${conversationKey}`,
    /**
     * One target's digest windows for one group (queue/delivery/digest-windows.ts): `:open`, a hash of
     * the window events join now (its id, when it opened, how many joined, the first event),
     * `:open:listed`, the events it will list, and `:open:threads`, those to reply in their
     * threads; when the window closes, the three move to `:closed:<window id>` (and
     * `…:listed`, `…:threads`) until what it sends is queued.
     */
    digest: (targetId: string, groupKey: string) => `${prefix}:digest:${targetId}:${groupKey}`,
    /** String with a TTL: the digest window a delivery joined, so that a re-run joins no other. */
    digested: (deliveryId: string) => `${prefix}:digested:${deliveryId}`,
    /**
     * Per-ticket order of one target's deliveries (queue/delivery/ticket-order.ts): a sorted set of the
     * conversation's deliveries not yet finished, by arrival; `:state`, a hash of the platform
     * time of the newest event delivered, those in retry backoff (since when) and those held.
     */
    ticketOrder: (targetId: string, conversationKey: string) => `${prefix}:order:${targetId}:${conversationKey}`,
    /**
     * The deliveries one target is sending now, across workers, at most its `concurrency`
     * (queue/delivery/target-slots.ts): a sorted set of holders by lease end; `:waiting`, the
     * deliveries in line for a slot, and `:woken`, those in line already woken.
     */
    targetSlots: (targetId: string) => `${prefix}:slots:${targetId}`,
    /**
     * Pacing of one pace key, e.g. a Slack channel (queue/delivery/pacing.ts): a hash of the next free
     * moment and when the last delivery went; `:held`, a sorted set of the deliveries waiting
     * for the moment they were given.
     */
    pace: (paceKey: string) => `${prefix}:pace:${paceKey}`,
    /** Hash: `target:<id>` or `route:<name>` → that mute, until when and why (queue/mutes.ts). */
    mutes: `${prefix}:mutes`,
    /**
     * Set with a TTL past its mute's end: the deliveries one mute (`target:<id>`, `route:<name>`)
     * holds back, so that unmuting releases them at once instead of at the planned end.
     */
    mutedDeliveries: (mute: string) => `${prefix}:mutes:held:${mute}`,
    /** BullMQ's failed set of the delivery queue (the dead letters), by when each gave up. */
    failedDeliveries: `${prefix}:${deliveryQueueName}:failed`,
    /** BullMQ's hash of one delivery job. */
    deliveryJob: (deliveryId: string) => `${prefix}:${deliveryQueueName}:${deliveryId}`,
  };
  // The history's keys, under `<prefix>:history:`, are its own room's: history/history-keys.ts.
}
export type RelayKeys = ReturnType<typeof relayKeys>;

/**
 * The delivery queue, for adding and inspecting deliveries: on a connection of the caller's,
 * or on one built from the settings whose commands wait out an outage.
 */
export function openDeliveryQueue(settings: QueueSettings, connection?: RedisClient): Queue<DeliveryJob> {
  return new Queue<DeliveryJob>(deliveryQueueName, {
    connection: connection ?? workerConnectionOptions(settings.url),
    prefix: settings.prefix,
  });
}

/** The inbound queue, one job per accepted webhook, on ingest's own connection. */
export function openInboundQueue(prefix: string, connection: RedisClient): Queue<InboundJob> {
  return new Queue<InboundJob>(inboundQueueName, { connection, prefix, defaultJobOptions: inboundJobOptions });
}
