import type { Job, Queue } from "bullmq";
import { type Conversation, conversationOf, type RelayEvent } from "../../events.js";
import type { RedisClient } from "../../redis/connections.js";
import type { DeliveryJob } from "../jobs.js";
import type { RelayKeys } from "../queues.js";
import { SameTickBatch } from "../same-tick-batch.js";
import type { SentMark } from "./sent-marks.js";
import { finishScript, stateTtlMs, turnsScript } from "./ticket-order-scripts.js";

/**
 * How long the deliveries after an earlier one of their conversation wait for it while it
 * fails: after a minute of retries they go ahead, and it arrives late when it gets through.
 * An earlier delivery that is being sent or waits for its pace holds the later ones as long as
 * it takes; one that became a dead letter, was removed or finished holds nobody.
 */
export const orderWaitForFailingMs = 60_000;

/**
 * When a held delivery looks again by itself, at place `rank` in its conversation's line. The
 * delivery before it wakes it the moment it finishes (`endTurn`), so this look only matters when
 * that wake was lost (a worker killed between the two) or when the one before it keeps failing
 * and may be passed: the next in line looks after a second, the ones far behind it rarely, so
 * that a backlog of thousands for one ticket costs next to nothing while it waits.
 */
export function lookAgainMs(rank: number): number {
  return Math.min(Math.max(rank, 1) * 1000, 10 * 60_000);
}

export type OrderPlace =
  | { kind: "go" }
  /** Behind `earlier`, which is not finished yet; `rank` deliveries of its conversation are ahead of it. */
  | { kind: "wait"; earlier: string; rank: number }
  /** Its platform time is older than the newest delivered one's (ms since the epoch). */
  | { kind: "late"; newerAt: number };

/**
 * The order of the events of one conversation reaching one target is the order the relay
 * received them in (`arrivalScore`): the routing worker places each delivery as it adds it,
 * and a delivery takes its turn only when the earlier ones have finished. The state lives in
 * Redis, shared by every worker.
 */
export class TicketOrder {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
    /** The delivery queue, to wake a held delivery when the one before it finishes. */
    private readonly deliveries?: Queue<DeliveryJob>,
    private readonly failingBoundMs = orderWaitForFailingMs,
  ) {}

  /**
   * Places new deliveries in their conversations' order, in the routing worker, just before
   * they are added: for each one behind an earlier delivery, how long to add it delayed (its
   * look, `lookAgainMs`); 0 for one that may go at once. A held delivery waits in BullMQ's
   * delayed set until the one before it finishes and wakes it, instead of being picked up and
   * put back over and over. Placements of webhooks routed in the same tick go in one call.
   */
  async place(jobs: { data: DeliveryJob; opts: { jobId?: string } }[]): Promise<number[]> {
    return Promise.all(
      jobs.map(async ({ data, opts }) => {
        const conversation = conversationOf(data.event)?.key;
        if (!conversation || !opts.jobId) return 0;
        const key = this.keys.ticketOrder(data.targetId, conversation);
        const turn = await this.#places.call({
          key,
          id: opts.jobId,
          score: arrivalScore(data.event),
          platform: platformMs(data.event) ?? "",
        });
        return turn.kind === "wait" ? lookAgainMs(turn.rank) : 0;
      }),
    );
  }

  readonly #places = this.#turns("place");

  /**
   * After the parked deliveries were added: wakes those whose turn came meanwhile. The one
   * before a delivery may have finished between its placing and its add, and its wake found no
   * job then; a worker's look may also have taken the entry of a job not added yet for a gone
   * one. Asking again puts both right.
   */
  async wakeIfTheirTurn(parked: { data: DeliveryJob; opts: { jobId?: string } }[]): Promise<void> {
    await Promise.all(
      parked.map(async ({ data, opts }) => {
        const conversation = conversationOf(data.event);
        if (!conversation || !opts.jobId) return;
        const turn = await this.askTurn({ id: opts.jobId, data } as Job<DeliveryJob>, conversation);
        if (turn.kind !== "wait") await this.#wake(opts.jobId);
      }),
    );
  }

  async askTurn(job: Job<DeliveryJob>, conversation: Conversation): Promise<OrderPlace> {
    const { event, targetId } = job.data;
    const key = this.keys.ticketOrder(targetId, conversation.key);
    return this.#takes.call({ key, id: job.id ?? "", score: arrivalScore(event), platform: platformMs(event) ?? "" });
  }

  readonly #takes = this.#turns("take");

  #turns(mode: "take" | "place") {
    return new SameTickBatch<{ key: string; id: string; score: number; platform: number | "" }, OrderPlace>(
      async (asks) => {
        const keys = asks.flatMap(({ key }) => [key, `${key}:state`]);
        const args = asks.flatMap(({ id, score, platform }) => [id, score, platform]);
        const answers = (await turnsScript.run(this.redis, keys, [
          mode,
          this.keys.deliveryJob(""),
          Date.now(),
          this.failingBoundMs,
          ...args,
        ])) as (string | number)[];
        return asks.map((_, index) => placeOf(answers.slice(3 * index, 3 * index + 3)));
      },
    );
  }

  /** A try failed and will be retried: from now on the bound of the deliveries behind it runs. */
  async failing(job: Job<DeliveryJob>, conversation: Conversation): Promise<void> {
    const key = `${this.keys.ticketOrder(job.data.targetId, conversation.key)}:state`;
    await this.redis.multi().hsetnx(key, `failing:${job.id}`, Date.now()).pexpire(key, stateTtlMs).exec();
  }

  /**
   * The delivery is finished; `delivered` when the target took it (its time may be the newest),
   * with what the target said, written as its sent mark in the same call.
   */
  async endTurn(job: Job<DeliveryJob>, conversation: Conversation, delivered: SentMark | false): Promise<void> {
    const key = this.keys.ticketOrder(job.data.targetId, conversation.key);
    const platform = delivered ? platformMs(job.data.event) : undefined;
    const next = await this.#finishes.call({ key, id: job.id ?? "", platform: platform ?? "", mark: delivered });
    if (next) await this.#wake(next);
  }

  async #wake(deliveryId: string): Promise<void> {
    if (!this.deliveries) return;
    try {
      await (await this.deliveries.getJob(deliveryId))?.promote();
    } catch {
      // Not delayed (any more): it is running, or already back in the queue. Its next look finds its turn.
    }
  }

  readonly #finishes = new SameTickBatch<
    { key: string; id: string; platform: number | ""; mark: SentMark | false },
    string
  >(async (finishes) => {
    // Without a mark to write, the state key stands in its place (KEYS are per delivery alike).
    const keys = finishes.flatMap(({ key, mark }) => [key, `${key}:state`, mark ? mark.key : `${key}:state`]);
    const args = finishes.flatMap(({ id, platform, mark }) => [
      id,
      platform,
      mark ? mark.detail : "",
      mark ? mark.ttlMs : 0,
    ]);
    return (await finishScript.run(this.redis, keys, args)) as string[];
  });
}

function placeOf([kind, detail, rank]: (string | number | undefined)[]): OrderPlace {
  if (kind === "wait") return { kind, earlier: String(detail), rank: Number(rank) };
  if (kind === "late") return { kind, newerAt: Number(detail) };
  return { kind: "go" };
}

/**
 * Where an event stands among its conversation's events: when the relay received it (ms),
 * then its place in its webhook, so that events of one webhook keep the platform's order.
 */
export function arrivalScore(event: Pick<RelayEvent, "id" | "receivedAt">): number {
  const index = Number(event.id.slice(event.id.lastIndexOf(".") + 1));
  const place = Number.isInteger(index) ? Math.min(Math.max(index, 0), 999) : 0;
  return (Date.parse(event.receivedAt) || 0) * 1000 + place;
}

/** The platform's own time of the event, in ms, where the payload gives one. */
export function platformMs(event: Pick<RelayEvent, "occurredAt">): number | undefined {
  const ms = event.occurredAt ? Date.parse(event.occurredAt) : Number.NaN;
  return Number.isFinite(ms) ? ms : undefined;
}
