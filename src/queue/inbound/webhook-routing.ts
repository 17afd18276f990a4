import { type Queue, UnrecoverableError } from "bullmq";
import type { Receipt, RelayEvent } from "../../events.js";
import type { Logger } from "../../log.js";
import type { EventRecorder } from "../../metrics/relay-metrics.js";
import type { RedisClient } from "../../redis/connections.js";
import type { RelayParts } from "../../relay-parts.js";
import { unmetKey } from "../../routing/explain.js";
import { deliveriesOf, type RouteDecision } from "../../routing/router.js";
import { BatchedAdd } from "../batched-add.js";
import { TicketOrder } from "../delivery/ticket-order.js";
import { type DeliveryJob, deliveryJobOptions, type InboundJob } from "../jobs.js";
import type { RelayKeys } from "../queues.js";
import { deliveryPolicyFor } from "../retry.js";

const maxReportedUnknownTypes = 1000;

/** Where a routed webhook is recorded, for `ticket-relay events` (history/routing-history.ts). */
export interface RoutingHistory {
  routed(webhook: RoutedWebhook): void;
}

/** A webhook as routing left it: its events, each route's decision on each, the deliveries queued. */
export interface RoutedWebhook {
  receipt: Receipt;
  events: readonly RelayEvent[];
  /** Per event, what each route made of it. */
  decisions: readonly (readonly RouteDecision[])[];
  deliveries: readonly { id: string; target: string; route: string; event: number; behind: boolean }[];
  /** The webhook's JSON, made only if it is kept. */
  body: () => string;
}

/**
 * Routes one stored webhook: normalizes it into events and queues one delivery job per
 * (event, target), so a failing target retries alone and never re-sends to a healthy one.
 * Running it again for the same webhook adds nothing twice: a delivery's job id comes from its
 * event and target, and BullMQ skips an add whose id it holds or still remembers.
 */
export class WebhookRouting {
  /** The deliveries of webhooks routed at the same time go to Redis together (queue/batched-add.ts). */
  readonly #adds: BatchedAdd<DeliveryJob>;
  readonly #order: TicketOrder;
  /**
   * A platform's new event type is routed by its raw name; said once per process, not per
   * event. Bounded, because event types come from whoever can post to the endpoint.
   */
  readonly #unknownTypes = new Set<string>();

  constructor(
    private readonly deps: {
      /** Sources, routes and retry policies in force now (a reload swaps them). */
      parts: () => RelayParts;
      redis: RedisClient;
      keys: RelayKeys;
      deliveries: Queue<DeliveryJob>;
      logger: Logger;
      metrics: EventRecorder;
      /** Where each webhook's record is written (history/), when the history is on. */
      history?: RoutingHistory;
    },
  ) {
    this.#adds = new BatchedAdd(deps.deliveries);
    this.#order = new TicketOrder(deps.redis, deps.keys, deps.deliveries);
  }

  async route({ receipt, payload }: InboundJob): Promise<{ events: number; deliveries: number }> {
    const { logger } = this.deps;
    // One set of parts for the whole webhook, even if a reload swaps them meanwhile.
    const { sources, router, config } = this.deps.parts();
    const source = sources.get(receipt.source);
    if (!source) throw new UnrecoverableError(`source "${receipt.source}" is not in the config any more`);

    const events = source.normalize(payload, receipt);
    for (const event of events) this.#reportIfUnknown(event);
    const { history } = this.deps;
    // With a history, every route's decision is kept: asked for once, the deliveries read from it.
    const decisions = history ? events.map((event) => router.decide(event)) : [];
    const eventOf: number[] = [];
    const jobs = events.flatMap((event, index) => {
      const decided = decisions[index];
      const routed = decided ? deliveriesOf(decided) : router.match(event);
      if (routed.length === 0) this.#reportUnrouted(event, decided ?? router.decide(event));
      return routed.map(({ targetId, route }) => {
        eventOf.push(index);
        return {
          name: targetId,
          data: { event, targetId, route },
          opts: deliveryJobOptions(event.id, targetId, deliveryPolicyFor(config, targetId)),
        };
      });
    });
    // Placed before the add: a delivery behind an earlier one of its ticket is added parked
    // (delayed) until that one wakes it, so a ticket's backlog costs the workers nothing while
    // it waits (queue/delivery/ticket-order.ts).
    const parkedFor = await this.#order.place(jobs);
    const toAdd = jobs.map((job, index) => {
      const delay = parkedFor[index] ?? 0;
      return delay > 0 ? { ...job, opts: { ...job.opts, delay } } : job;
    });
    // Before the add, on the connection that adds: a delivery's first step finds its record.
    history?.routed({
      receipt,
      events,
      decisions,
      deliveries: toAdd.map((job, index) => ({
        id: job.opts.jobId ?? "",
        target: job.data.targetId,
        route: job.data.route,
        event: eventOf[index] ?? -1,
        behind: Boolean(job.opts.delay),
      })),
      body: () => JSON.stringify(payload),
    });
    await this.#adds.addAll(toAdd);
    await this.#order.wakeIfTheirTurn(toAdd.filter((job) => job.opts.delay));
    // Counted once routed: a webhook routed again after a failure mid-way is not counted twice.
    for (const event of events) this.deps.metrics.received(event.source, event.type);
    logger.info({ receiptId: receipt.id, events: events.length, deliveries: jobs.length }, "routed");
    return { events: events.length, deliveries: jobs.length };
  }

  /**
   * One info line per event no route took, naming for each route the key it failed on
   * (`previousStatus`, `activeDuring`, `mutedDuring`); `ticket-relay events show` and
   * `route --event` say the rest in words. Without a history, the decisions are asked for here
   * only: `match` stays the hot path, and walking the routes again costs about what matching did.
   */
  #reportUnrouted(event: RelayEvent, decisions: readonly RouteDecision[]): void {
    const unmet: Record<string, string> = {};
    for (const decision of decisions) {
      const key = unmetKey(decision);
      if (key !== undefined) unmet[decision.route] = key;
    }
    this.deps.logger.info(
      { eventId: event.id, type: event.type, ticketId: event.ticketId, unmet },
      "event matched no route",
    );
  }

  #reportIfUnknown(event: RelayEvent): void {
    const key = `${event.source}\u0000${event.type}`;
    if (event.known || this.#unknownTypes.has(key)) return;
    const line = { source: event.source, type: event.type };
    if (this.#unknownTypes.size >= maxReportedUnknownTypes) {
      this.deps.logger.debug(line, "unknown event type; routed by its raw name");
      return;
    }
    this.#unknownTypes.add(key);
    this.deps.logger.warn(line, "unknown event type; routed by its raw name");
  }
}
