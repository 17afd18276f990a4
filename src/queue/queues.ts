import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { workerConnectionOptions } from "../redis/connections.js";
import { type DeliveryJob, deliveryQueueName, type InboundJob, inboundJobOptions, inboundQueueName } from "./jobs.js";

/**
 * The one place that names the relay's queues and Redis keys. Ingest, workers, the `dlq` and
 * `targets` commands and the admin API all open queues and build keys here, so a key's shape
 * is written once and every user of it agrees.
 */
export interface QueueSettings {
  /** redis:// or rediss:// */
  url: string;
  /** Starts every key: several relays can share one Redis. */
  prefix: string;
}

/** Keys the relay keeps beside BullMQ's own. */
export function relayKeys(prefix: string) {
  return {
    /** Hash: target id → why and when it was disabled (an HTTP 410 Gone). */
    disabledTargets: `${prefix}:targets:disabled`,
    /** String with a TTL: this delivery was accepted by its target (see queue/sent-marks.ts). */
    sent: (deliveryId: string) => `${prefix}:sent:${deliveryId}`,
    /**
     * Hash with a TTL: what a target keeps about one conversation, per slot (a Slack channel);
     * `:claim` and `:tally` beside it (see queue/conversation-state.ts).
     */
    conversation: (targetId: string, slot: string, conversationKey: string) =>
      `${prefix}:conversation:${targetId}:${slot}:${conversationKey}`,
    /** BullMQ's hash of one delivery job. */
    deliveryJob: (deliveryId: string) => `${prefix}:${deliveryQueueName}:${deliveryId}`,
  };
}
export type RelayKeys = ReturnType<typeof relayKeys>;

/**
 * The delivery queue, for adding and inspecting deliveries: on a connection of the caller's,
 * or on one built from the settings whose commands wait out an outage.
 */
export function openDeliveryQueue(settings: QueueSettings, connection?: Redis): Queue<DeliveryJob> {
  return new Queue<DeliveryJob>(deliveryQueueName, {
    connection: connection ?? workerConnectionOptions(settings.url),
    prefix: settings.prefix,
  });
}

/** The inbound queue, one job per accepted webhook, on ingest's own connection. */
export function openInboundQueue(prefix: string, connection: Redis): Queue<InboundJob> {
  return new Queue<InboundJob>(inboundQueueName, { connection, prefix, defaultJobOptions: inboundJobOptions });
}
