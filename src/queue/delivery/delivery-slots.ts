import { DelayedError, type Job, type Queue } from "bullmq";
import type { Logger } from "../../log.js";
import type { DeliveryJob } from "../jobs.js";
import type { SlotSettings, TargetSlots } from "./target-slots.js";
import { lookAgainMs } from "./ticket-order.js";

/**
 * How long a delivery whose target's slots are all taken waits in this process before it is
 * parked: a fast target frees a slot within milliseconds, and a wait that short costs less
 * than parking and waking the job; a slow one does not, and then the delivery gives its
 * worker slot back to the other targets.
 */
const waitHereMs = 100;

/**
 * A slot given back in this process goes to a delivery waiting here rather than to a parked
 * one, unless the parked one joined its line this much earlier: handing over here costs no
 * worker a pick-up, and the parked ones still get their turn while new deliveries keep coming.
 */
const parkedFirstAfterMs = 10_000;

/** A delivery of this process waiting here for a slot of its target. */
interface WaitingHere {
  createdAt: number;
  /** Called when a slot of this process was given back, for it to ask for. */
  wake: () => void;
}

/**
 * The delivery pipeline's step right before the send: a slot among the target's `concurrency`
 * (queue/delivery/target-slots.ts). A delivery that finds none waits briefly here, woken to ask
 * again when this process gives a slot back; after that it is parked in
 * BullMQ's delayed set, using none of its tries and holding no worker, in its target's line,
 * until a freed slot wakes it. Every slot taken is given back by `release`, whatever the send's
 * outcome.
 */
export class DeliverySlots {
  /** Per target, the deliveries waiting here, oldest job first. */
  readonly #waitingHere = new Map<string, WaitingHere[]>();

  constructor(
    private readonly slots: TargetSlots,
    /** The delivery queue, to wake a parked delivery when a slot frees. */
    private readonly deliveries: Queue<DeliveryJob>,
    /** The target's `concurrency` and lease, as the config in force now has it. */
    private readonly settingsOf: (targetId: string) => SlotSettings,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the delivery holds a slot; otherwise parks the job (throws DelayedError). */
  async take(job: Job<DeliveryJob>, token: string | undefined): Promise<void> {
    const { targetId } = job.data;
    const id = job.id ?? "";
    if (await this.slots.take(targetId, id, this.settingsOf(targetId))) return;
    const until = Date.now() + waitHereMs;
    while (Date.now() < until) {
      const woken = await this.#waitHere(targetId, job.timestamp, until - Date.now());
      if (woken && (await this.slots.take(targetId, id, this.settingsOf(targetId)))) return;
    }
    // Asked again: one given back by another process meanwhile.
    if (await this.slots.take(targetId, id, this.settingsOf(targetId))) return;
    // A worker always hands its processor the job's lock token; without one, nothing can move the job.
    if (!token) throw new Error("a delivery cannot wait for a slot without its job's lock token");
    const ahead = await this.slots.lineLength(targetId);
    this.logger.debug({ deliveryId: id, target: targetId, ahead }, "waits for a slot of its target");
    // Woken by a release; the look is a safety net, later the further back in line it is.
    await job.moveToDelayed(Date.now() + lookAgainMs(ahead + 1), token);
    // In line only once parked, so that a release that takes it off the line finds it to wake.
    await this.slots.joinLine(targetId, id, job.timestamp);
    // A slot given back before it was in line woke nobody: ask once more.
    if (await this.slots.take(targetId, id, this.settingsOf(targetId))) await job.promote().catch(() => undefined);
    throw new DelayedError();
  }

  /** The send is over, whatever its outcome: the slot goes to a delivery waiting here, or a parked one. */
  async release(job: Job<DeliveryJob>): Promise<void> {
    const { targetId } = job.data;
    const next = this.#waitingHere.get(targetId)?.[0];
    const before = next ? next.createdAt - parkedFirstAfterMs : Number.POSITIVE_INFINITY;
    let parked: string | undefined = await this.slots.release(targetId, job.id ?? "", before);
    // A parked one that cannot be woken (its job is gone, or running already) passes its turn on.
    for (let tries = 0; parked && tries < 3; tries += 1) {
      if (await this.#promote(parked)) return;
      parked = await this.slots.nextInLine(targetId);
    }
    // The one waiting here longest asks for the slot now free; another process may be quicker.
    const waiting = this.#waitingHere.get(targetId)?.[0];
    if (waiting && this.#leave(targetId, waiting)) waiting.wake();
  }

  async #promote(deliveryId: string): Promise<boolean> {
    try {
      const parked = await this.deliveries.getJob(deliveryId);
      if (!parked) return false;
      await parked.promote();
      return true;
    } catch {
      return false; // not parked any more: running, or back in the queue
    }
  }

  /** Waits here at most `ms` for a slot this process gives back; true when woken for one. */
  #waitHere(targetId: string, createdAt: number, ms: number): Promise<boolean> {
    return new Promise((resolve) => {
      const line = this.#waitingHere.get(targetId) ?? [];
      this.#waitingHere.set(targetId, line);
      const waiting: WaitingHere = {
        createdAt,
        wake: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.#leave(targetId, waiting);
        resolve(false);
      }, ms);
      // Oldest job first, as the line in Redis is.
      const at = line.findIndex((other) => other.createdAt > createdAt);
      line.splice(at < 0 ? line.length : at, 0, waiting);
    });
  }

  /** Takes a delivery out of the waiting here; false when it was not there any more. */
  #leave(targetId: string, waiting: WaitingHere): boolean {
    const line = this.#waitingHere.get(targetId);
    const index = line?.indexOf(waiting) ?? -1;
    if (!line || index < 0) return false;
    line.splice(index, 1);
    if (line.length === 0) this.#waitingHere.delete(targetId);
    return true;
  }
}
