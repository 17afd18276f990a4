import type { RelayEvent } from "../events.js";
import type { Receipt } from "../sources/source.js";

/**
 * The two queues and the shape of their jobs. Ingest writes one `inbound` job per webhook, a
 * single Redis write before the 200; the routing worker fans it out to one `delivery` job per
 * (event, target), so a failing target retries alone and never re-sends to a healthy one.
 */
export const inboundQueueName = "inbound";
export const deliveryQueueName = "delivery";

export interface InboundJob {
  receipt: Receipt;
  /** The webhook body as the platform sent it, parsed but not interpreted. */
  payload: unknown;
}

export interface DeliveryJob {
  event: RelayEvent;
  targetId: string;
  route: string;
}

/**
 * Deterministic, so that a routing job that crashes halfway and runs again adds no duplicate:
 * BullMQ ignores an add whose job id already exists. The target is part of the id because one
 * event becomes one job per target. (BullMQ forbids `:` in custom ids.)
 */
export function deliveryJobId(eventId: string, targetId: string): string {
  return `${eventId}.${targetId}`;
}

/**
 * How long finished jobs stay in Redis: enough to look into recent history, bounded so that a
 * busy relay does not fill Redis. Failed deliveries are kept until someone acts on them.
 */
export const keepCompleted = { age: 24 * 3600, count: 10_000 };
export const keepFailedInbound = { age: 30 * 24 * 3600 };
