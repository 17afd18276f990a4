import type { HeldBy } from "../queue/delivery/outcome.js";
import type { Answer, Where } from "../targets/target.js";

export type { Answer, Where };

/**
 * What the history keeps of one webhook (history/): one Redis list per webhook, whose first
 * element is its WebhookRecord, written when it was routed, followed by one Step per thing that
 * happened to its deliveries since. Short field names: a default history holds 100,000 of them.
 */
export interface WebhookRecord {
  /** The receipt id, which starts every event and delivery id made from it. */
  id: string;
  source: string;
  receivedAt: string;
  events: EventRecord[];
  /** The deliveries routing queued, in order; a fallback's appears in the steps only. */
  deliveries: DeliveryRecord[];
  /** Events past the first hundred, routed but not recorded. */
  moreEvents?: number;
}

export interface EventRecord {
  id: string;
  type: string;
  ticketId?: string;
  /** For a chat or SMS customer, the conversation the event belongs to. */
  conversationId?: string;
  /** Status before and after, for a status change: what a ticket's timeline reads. */
  previousStatus?: string;
  status?: string;
  /** What each route made of this event, in the routes' order. */
  routes: RouteReason[];
}

/** One route's decision about one event, in words (routing/explain.ts says the same to `route`). */
export interface RouteReason {
  route: string;
  /** As routing/router.ts names them: `inactive` is outside `activeDuring`, `muted` inside `mutedDuring`. */
  decision: "matched" | "unmet" | "inactive" | "muted" | "notTried";
  /** Why, for every decision but matched: the first unmet condition, the time interval … */
  why?: string;
  /** Where a matched route sends the event. */
  to?: readonly string[];
}

export interface DeliveryRecord {
  id: string;
  target: string;
  route: string;
  /** The index of its event in `events`. */
  event: number;
  /** Queued parked behind an earlier delivery of its ticket to the same target. */
  behind?: true;
}

/** One thing that happened to one delivery (or, for `duplicate`, to the webhook). */
export type Step =
  | ({ at: number; d: string; target: string; route?: string } & DeliveryStep)
  /** The same webhook came again and was answered `{"duplicate": true}`. */
  | { at: number; kind: "duplicate" };

export type DeliveryStep =
  /** Parked until `until`, using no worker and none of its tries. */
  | { kind: "held"; by: HeldBy; until: number; why: string }
  /** The target took it on try `try`. */
  | { kind: "delivered"; try: number; ms: number; detail: string; where?: Where }
  /** A run before this one was taken already (its worker died after): not sent again. */
  | { kind: "alreadySent"; detail: string }
  /** Joined a digest window: sent with the window's other events. */
  | { kind: "digested"; detail: string }
  /** Not sent, on purpose: a mute that drops, or an event older than one delivered. */
  | { kind: "dropped"; by: string; why: string }
  /** Try `try` failed. */
  | { kind: "failed"; try: number; ms: number; failure: string; answer?: Answer }
  /** The next try is planned for `next`. */
  | { kind: "retrying"; next: number }
  /** Gave up: kept as a dead letter, and sent to `fallback` when there is one. */
  | { kind: "dead"; failure: string; fallback?: string }
  /**
   * Queued again by hand (`from`: `events replay`, the admin API): a dead letter under its own
   * id; anything else as a new delivery of the same event, `of` the delivery it repeats.
   */
  | { kind: "replayed"; from: string; of?: string };

/** Where a delivery stands, after its latest step: what `--outcome` filters on. */
export type DeliveryState = "queued" | "held" | "delivered" | "retrying" | "dead" | "dropped";

/** The outcomes a webhook can be looked for by (`events --outcome`). */
export const outcomes = [
  "delivered",
  "failed",
  "dead",
  "retrying",
  "held",
  "dropped",
  "no-route",
  "duplicate",
] as const;
export type Outcome = (typeof outcomes)[number];

/** The state a step leaves its delivery in. */
export function stateAfter(step: DeliveryStep): DeliveryState {
  switch (step.kind) {
    case "held":
      return "held";
    case "delivered":
    case "alreadySent":
    case "digested":
      return "delivered";
    case "dropped":
      return "dropped";
    case "failed":
    case "retrying":
      return "retrying";
    case "dead":
      return "dead";
    case "replayed":
      return "queued";
  }
}

/** The outcome indexes a step puts its webhook in; `failed` stays once a try failed. */
export function outcomesOf(step: DeliveryStep): Outcome[] {
  if (step.kind === "failed") return ["failed", "retrying"];
  const state = stateAfter(step);
  return state === "queued" ? [] : [state];
}

/** An action someone took by hand: in the console (`from: "console"`) or with a command. */
export interface TakenAction {
  at: string;
  /** What was done, in words: `mute`, `unmute`, `replay`, `purge`, `enable`. */
  action: string;
  /** What it was done to and what came of it: `target crm for 1h`, `3 dead letters`. */
  what: string;
  from: string;
  /** The browser's address, for an action from the console. */
  client?: string;
}

/** A refused request, without its body or anything secret. */
export interface RefusedRequest {
  at: string;
  source: string;
  method: string;
  status: number;
  reason: string;
  /** The client's address, as the connection has it (a proxy's, behind one). */
  client: string;
}
