import type { Receipt, RelayEvent } from "../events.js";
import { describeDecision, describeUnmet } from "../routing/explain.js";
import type { RouteDecision } from "../routing/router.js";
import type { DeliveryRecord, EventRecord, RouteReason, WebhookRecord } from "./records.js";

/** Events recorded per webhook: a webhook may carry a thousand, and its record stays small. */
export const maxEventsRecorded = 100;
/** A reason quotes what the event has in a field, which may be a whole message: cut here. */
const maxReasonLength = 200;

/** A routed webhook's record: its events, what each route made of each, and the deliveries queued. */
export function webhookRecord(
  receipt: Receipt,
  events: readonly RelayEvent[],
  decisions: readonly (readonly RouteDecision[])[],
  deliveries: readonly DeliveryRecord[],
): WebhookRecord {
  const recorded = events.slice(0, maxEventsRecorded);
  return {
    id: receipt.id,
    source: receipt.source,
    receivedAt: receipt.receivedAt,
    events: recorded.map((event, index) => eventRecord(event, decisions[index] ?? [])),
    deliveries: deliveries.filter((delivery) => delivery.event < maxEventsRecorded),
    ...(events.length > recorded.length && { moreEvents: events.length - recorded.length }),
  };
}

function eventRecord(event: RelayEvent, decisions: readonly RouteDecision[]): EventRecord {
  const { id, type, ticketId, conversationId, previousStatus, status } = event;
  return {
    id,
    type,
    ...(ticketId !== undefined && { ticketId }),
    ...(conversationId !== undefined && { conversationId }),
    ...(previousStatus !== undefined && { previousStatus }),
    ...(status !== undefined && { status }),
    routes: decisions.map(reasonOf),
  };
}

/** One route's decision in words, as `route --event` says it (routing/explain.ts). */
export function reasonOf(decision: RouteDecision): RouteReason {
  if (decision.kind === "matched") return { route: decision.route, decision: "matched", to: decision.targets };
  const why = decision.kind === "unmet" ? describeUnmet(decision.unmet) : describeDecision(decision);
  return {
    route: decision.route,
    decision: decision.kind,
    why: why.length > maxReasonLength ? `${why.slice(0, maxReasonLength - 1)}…` : why,
  };
}
