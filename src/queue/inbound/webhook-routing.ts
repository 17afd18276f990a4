import { type Queue, UnrecoverableError } from "bullmq";
import type { RelayEvent } from "../../events.js";
import type { Logger } from "../../log.js";
import type { EventRecorder } from "../../metrics/relay-metrics.js";
import type { RedisClient } from "../../redis/connections.js";
import type { RelayParts } from "../../relay-parts.js";
import { unmetKey } from "../../routing/explain.js";
import type { Router } from "../../routing/router.js";
import { BatchedAdd } from "../batched-add.js";
import { TicketOrder } from "../delivery/ticket-order.js";
import { type DeliveryJob, deliveryJobOptions, type InboundJob } from "../jobs.js";
import type { RelayKeys } from "../queues.js";
import { deliveryPolicyFor } from "../retry.js";

const maxReportedUnknownTypes = 1000;

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
    const jobs = events.flatMap((event) => {
      const routed = router.match(event);
      if (routed.length === 0) this.#reportUnrouted(event, router);
      return routed.map(({ targetId, route }) => ({
        name: targetId,
        data: { event, targetId, route },
        opts: deliveryJobOptions(event.id, targetId, deliveryPolicyFor(config, targetId)),
      }));
    });
    // Placed before the add: a delivery behind an earlier one of its ticket is added parked
    // (delayed) until that one wakes it, so a ticket's backlog costs the workers nothing while
    // it waits (queue/delivery/ticket-order.ts).
    const parkedFor = await this.#order.place(jobs);
    const toAdd = jobs.map((job, index) => {
      const delay = parkedFor[index] ?? 0;
      return delay > 0 ? { ...job, opts: { ...job.opts, delay } } : job;
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
   * (`previousStatus`, `activeDuring`, `mutedDuring`); `ticket-relay route --event` says the
   * rest in words. The decisions are asked for here only: `match` stays the hot path, and
   * walking the routes again costs about what matching did.
   */
  #reportUnrouted(event: RelayEvent, router: Router): void {
    const unmet: Record<string, string> = {};
    for (const decision of router.decide(event)) {
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
