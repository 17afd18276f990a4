import type { JobsOptions, Queue } from "bullmq";
import type { RelayEvent } from "../events.js";
import type { DeadLetters } from "../queue/dead-letters.js";
import { type DeliveryJob, deliveryJobOptions } from "../queue/jobs.js";
import type { DeliveryPolicy } from "../queue/retry.js";
import { deliveriesOf, type Router } from "../routing/router.js";
import type { Source } from "../sources/source.js";
import type { EventsFilter, HistoryReader } from "./history-reader.js";
import type { HistoryRecorder } from "./recorder.js";
import type { Outcome } from "./records.js";
import type { DeliveryStory, WebhookStory } from "./story.js";

/** What `events replay` and `POST /admin/events/replay` replay: webhooks by id, or a filter. */
export type ReplaySelector =
  | { receipts: string[] }
  | { ticket?: string; target?: string; outcome?: Outcome; since?: number };

/** One delivery to queue again: a dead letter (replayed as `dlq replay` does) or a delivery sent again. */
export interface PlannedReplay {
  receipt: string;
  receivedAt: string;
  /** The delivery replayed; for a webhook no route took, the one the routes make of it now. */
  delivery: string;
  target: string;
  route: string;
  how: "dead letter" | "again" | "routed again";
}

export interface ReplayPlan {
  replays: PlannedReplay[];
  /** Deliveries the selector names that cannot be replayed, and why. */
  cannot: { receipt: string; delivery?: string; why: string }[];
}

/** Webhooks looked at for one replay at most. */
const maxWebhooks = 10_000;

export interface ReplayDeps {
  reader: HistoryReader;
  deadLetters: DeadLetters;
  deliveries: Queue<DeliveryJob>;
  /** Sources and routes in force now: a kept body is read, and a webhook no route took routed, with these. */
  sources: () => ReadonlyMap<string, Source>;
  router: () => Router;
  policyFor: (targetId: string) => DeliveryPolicy;
  /** Writes the `replayed` step on each replayed delivery; none when the history is off here. */
  recorder?: HistoryRecorder;
}

/**
 * Queues deliveries of recorded webhooks again: a dead letter through the dead-letter path
 * (`dlq replay`), under its own id with its tries reset; a delivery that went (or was dropped)
 * as a new delivery of the same event, from the event kept with the history (`history.bodies`);
 * a webhook no route took, routed again by the routes in force now. A delivery still waiting
 * or retrying is left to its queue.
 */
export class Replays {
  constructor(private readonly deps: ReplayDeps) {}

  /** What `replay` would queue, without queueing anything: `--dry-run` prints it. */
  async plan(selector: ReplaySelector): Promise<ReplayPlan> {
    const plan: ReplayPlan = { replays: [], cannot: [] };
    for (const story of await this.#stories(selector)) {
      const outcome = "receipts" in selector ? undefined : selector.outcome;
      const target = "receipts" in selector ? undefined : selector.target;
      if (story.noRoute) {
        if (target === undefined && (outcome === undefined || outcome === "no-route"))
          await this.#planRoute(story, plan);
        continue;
      }
      for (const delivery of story.deliveries) {
        if (target !== undefined && delivery.target !== target) continue;
        if (outcome !== undefined && !deliveryHas(delivery, outcome)) continue;
        await this.#planDelivery(story, delivery, plan);
      }
    }
    return plan;
  }

  /** Queues what `plan` found; answers how many were queued, and what could not be. */
  async replay(plan: ReplayPlan, from: string): Promise<{ replayed: number; cannot: ReplayPlan["cannot"] }> {
    const cannot = [...plan.cannot];
    // A dead letter goes again under its own id; anything else as a new delivery of the event.
    const stamp = Date.now().toString(36);
    const queued = plan.replays.map((replay) => ({
      ...replay,
      as: replay.how === "dead letter" ? replay.delivery : `${replay.delivery}.r${stamp}`,
    }));
    const jobs: { name: string; data: DeliveryJob; opts: JobsOptions }[] = [];
    for (const replay of queued.filter(({ how }) => how !== "dead letter")) {
      const event = await this.#eventOf(replay.receipt, replay.delivery);
      if (event) jobs.push(this.#job(event, replay));
      else cannot.push({ receipt: replay.receipt, delivery: replay.delivery, why: "its event is no longer kept" });
    }
    const dead = queued.filter(({ how }) => how === "dead letter");
    // Recorded before anything is queued: a fast worker's first step comes after it.
    await Promise.all(
      [...dead, ...queued.filter(({ as }) => jobs.some((job) => job.opts.jobId === as))].map((replay) =>
        this.deps.recorder?.step(replay.receipt, replay.receivedAt, {
          at: Date.now(),
          d: replay.as,
          target: replay.target,
          route: replay.route,
          kind: "replayed",
          from,
          ...(replay.as !== replay.delivery && { of: replay.delivery }),
        }),
      ),
    );
    let replayed = 0;
    if (dead.length > 0) {
      const done = await this.deps.deadLetters.replay({ ids: dead.map((replay) => replay.delivery) });
      replayed += done.replayed;
      for (const id of done.notFound) {
        const receipt = dead.find((replay) => replay.delivery === id)?.receipt ?? "";
        cannot.push({ receipt, delivery: id, why: "no longer a dead letter (replayed or purged meanwhile)" });
      }
    }
    if (jobs.length > 0) await this.deps.deliveries.addBulk(jobs);
    replayed += jobs.length;
    return { replayed, cannot };
  }

  async #stories(selector: ReplaySelector): Promise<WebhookStory[]> {
    const { reader } = this.deps;
    if ("receipts" in selector) {
      const stories = await reader.stories(selector.receipts);
      return stories.filter((story) => story !== undefined);
    }
    const filter: EventsFilter = { ...selector, limit: 1000 };
    const stories: WebhookStory[] = [];
    do {
      const page = await reader.list(filter);
      stories.push(...page.webhooks);
      filter.cursor = page.next;
    } while (filter.cursor && stories.length < maxWebhooks);
    return stories;
  }

  async #planDelivery(story: WebhookStory, delivery: DeliveryStory, plan: ReplayPlan): Promise<void> {
    const receipt = story.webhook.id;
    const { receivedAt } = story.webhook;
    const planned = { receipt, receivedAt, delivery: delivery.id, target: delivery.target, route: delivery.route };
    if (delivery.state === "dead") {
      plan.replays.push({ ...planned, how: "dead letter" });
    } else if (delivery.state === "delivered" || delivery.state === "dropped") {
      if (await this.#eventOf(receipt, delivery.id)) plan.replays.push({ ...planned, how: "again" });
      else plan.cannot.push({ receipt, delivery: delivery.id, why: notKept });
    } else {
      plan.cannot.push({ receipt, delivery: delivery.id, why: `still in the queue (${delivery.state})` });
    }
  }

  /** A webhook no route took: the deliveries today's routes make of its kept body. */
  async #planRoute(story: WebhookStory, plan: ReplayPlan): Promise<void> {
    const receipt = story.webhook.id;
    const events = await this.#events(story.webhook.id, story.webhook.source, story.webhook.receivedAt);
    if (!events) {
      plan.cannot.push({ receipt, why: `no route took it, and ${notKept}` });
      return;
    }
    const before = plan.replays.length;
    for (const event of events) {
      for (const { targetId, route } of deliveriesOf(this.deps.router().decide(event))) {
        const delivery = `${event.id}.${targetId}`;
        plan.replays.push({
          receipt,
          receivedAt: event.receivedAt,
          delivery,
          target: targetId,
          route,
          how: "routed again",
        });
      }
    }
    if (plan.replays.length === before) plan.cannot.push({ receipt, why: "no route takes it now either" });
  }

  /** The event of a delivery, from what the history kept of its webhook. */
  async #eventOf(receipt: string, deliveryId: string): Promise<RelayEvent | undefined> {
    const kept = await this.deps.reader.keptBody(receipt);
    const failed = Object.entries(kept.events).find(([eventId]) => deliveryId.startsWith(`${eventId}.`));
    if (failed) return parseEvent(failed[1]);
    const [story] = await this.deps.reader.stories([receipt]);
    if (!story || kept.body === undefined) return undefined;
    const events = await this.#events(receipt, story.webhook.source, story.webhook.receivedAt);
    return events?.find((event) => deliveryId.startsWith(`${event.id}.`));
  }

  /** The webhook's events, normalized again from its kept body by its source. */
  async #events(receipt: string, sourceId: string, receivedAt: string): Promise<RelayEvent[] | undefined> {
    const { body } = await this.deps.reader.keptBody(receipt);
    const source = this.deps.sources().get(sourceId);
    if (body === undefined || !source) return undefined;
    try {
      return source.normalize(JSON.parse(body), { id: receipt, source: sourceId, receivedAt });
    } catch {
      return undefined;
    }
  }

  /** A new delivery of the event: an id of its own, so the target takes it as new and nothing remembered skips it. */
  #job(event: RelayEvent, replay: PlannedReplay & { as: string }) {
    const jobId = replay.as;
    const options = deliveryJobOptions(event.id, replay.target, this.deps.policyFor(replay.target));
    return {
      name: replay.target,
      data: { event, targetId: replay.target, route: replay.route },
      opts: { ...options, jobId, deduplication: { ...options.deduplication, id: jobId } },
    };
  }
}

const notKept = "its event was not kept (history.bodies: all keeps every webhook's)";

/** Whether a delivery has this outcome now, as `events --outcome` means it. */
function deliveryHas(delivery: DeliveryStory, outcome: Outcome): boolean {
  if (outcome === "failed") return delivery.steps.some((step) => step.kind === "failed");
  return delivery.state === outcome;
}

function parseEvent(json: string): RelayEvent | undefined {
  try {
    return JSON.parse(json) as RelayEvent;
  } catch {
    return undefined;
  }
}
