import { randomUUID } from "node:crypto";
import type { Job, Queue } from "bullmq";
import type { DeliveryJob } from "../jobs.js";
import { goOn, park, type StageAnswer } from "./outcome.js";
import type { SlotSettings, TargetSlots } from "./target-slots.js";
import { lookAgainMs } from "./ticket-order.js";
import { type Slot, WaitingHere } from "./waiting-here.js";

/**
 * How long a delivery whose target's slots are all taken waits in this process before it is
 * parked: a few of its target's recent sends, within these bounds. A fast target frees a slot
 * within milliseconds (or a busy machine's tens of them), and a wait that short costs less than
 * parking and waking the job; a slow one does not, and its deliveries give their worker slots
 * back to the other targets after the shortest wait.
 */
const waitHere = { leastMs: 100, mostMs: 1000, sends: 4 };
/** A target whose sends take longer than this on average is slow: its deliveries park at once. */
const slowSendMs = 1000;
/**
 * A slot passed from delivery to delivery in this process goes through Redis at least this
 * often: its lease is renewed there, and a delivery parked in the line may get it instead.
 */
const syncEveryMs = 100;
/** A slot nobody here waits for is kept this long for this process's next delivery, then given back. */
const keepIdleMs = 20;
/**
 * A slot goes to a delivery waiting here rather than to a parked one, unless the parked one
 * joined its line this much earlier: handing over here costs no worker a pick-up, and the
 * parked ones still get their turn while new deliveries keep coming.
 */
const parkedFirstAfterMs = 10_000;

/**
 * The delivery pipeline's stage right before the send: a slot among the target's `concurrency`
 * (queue/delivery/target-slots.ts). A slot this process holds passes from one delivery to the
 * next here without a Redis call, going through Redis every syncEveryMs; a delivery that finds
 * none waits briefly here, then is parked in BullMQ's delayed set, using none of its tries and
 * holding no worker, in its target's line, until a freed slot wakes it. Every slot taken is
 * given back by `release`, whatever the send's outcome.
 */
export class DeliverySlots {
  readonly #waitingHere = new WaitingHere();
  /** The slot each delivery sending now holds. */
  readonly #held = new Map<string, Slot>();
  /** Per target, slots given back here and kept a moment for the next delivery. */
  readonly #idle = new Map<string, { slot: Slot; timer: NodeJS.Timeout }[]>();
  /** Per target, how long its sends took of late (ms, a moving average). */
  readonly #sendMs = new Map<string, number>();
  /** Slot ids of this process: unique across processes, in Redis. */
  readonly #process = randomUUID().slice(0, 8);
  #slotCount = 0;
  /** Renews the leases of the slots held here, as BullMQ renews its job locks. */
  readonly #renewal: NodeJS.Timeout;

  constructor(
    private readonly slots: TargetSlots,
    /** The delivery queue, to wake a parked delivery when a slot frees. */
    private readonly deliveries: Queue<DeliveryJob>,
    /** The target's `concurrency` and lease, as the config in force now has it. */
    private readonly settingsOf: (targetId: string) => SlotSettings,
    /** How long a slot is leased (the workers' lockDuration): renewed every third of it. */
    leaseMs: number,
  ) {
    this.#renewal = setInterval(() => {
      const held = [...this.#held.values(), ...[...this.#idle.values()].flat().map(({ slot }) => slot)];
      // Redis away: the next renewal tries again; a slot lost meanwhile lets one more in, no harm.
      this.slots.renew(held, leaseMs).catch(() => undefined);
    }, leaseMs / 3).unref();
  }

  /** Goes on once the delivery holds a slot; otherwise parks it (a "held" outcome). */
  async waitForSlot(job: Job<DeliveryJob>, token: string | undefined): Promise<StageAnswer> {
    const { targetId } = job.data;
    const id = job.id ?? "";
    const holding = (slot: Slot) => {
      this.#held.set(id, slot);
      return goOn;
    };
    // Behind deliveries already waiting here, the target's slots are taken: no need to ask Redis.
    const queued = this.#waitingHere.first(targetId) !== undefined;
    const slot = this.#takeIdle(targetId) ?? (queued ? undefined : await this.#claim(targetId));
    if (slot) return holding(slot);
    const until = Date.now() + this.#waitHereMs(targetId);
    while (Date.now() < until) {
      const answer = await this.#waitingHere.wait(targetId, id, job.timestamp, until - Date.now());
      if (typeof answer === "object") return holding(answer);
      const claimed = answer === "askAgain" && (await this.#claim(targetId));
      if (claimed) return holding(claimed);
    }
    // Asked again: one given back by another process meanwhile.
    const late = await this.#claim(targetId);
    if (late) return holding(late);
    const ahead = await this.slots.lineLength(targetId);
    // Woken by a release; the look is a safety net, later the further back in line it is.
    const held = await park(job, token, {
      by: "slot",
      until: Date.now() + lookAgainMs(ahead + 1),
      why: `${ahead} ahead in line for a slot of ${targetId}`,
    });
    // In line only once parked, so that a release that takes it off the line finds it to wake.
    await this.slots.joinLine(targetId, id, job.timestamp);
    // A slot given back before it was in line woke nobody: wake the first in line now. Not by
    // claiming the slot for it: a woken job waits behind the whole queue, and a slot held for
    // it would sit unused all that time.
    if ((await this.slots.freeSlots(targetId, this.settingsOf(targetId))) > 0) await this.#wakeFirstInLine(targetId);
    return held;
  }

  /** The send is over, whatever its outcome: its slot passes on. */
  async release(job: Job<DeliveryJob>, sendMs: number): Promise<void> {
    const { targetId } = job.data;
    this.#sendMs.set(targetId, 0.8 * (this.#sendMs.get(targetId) ?? sendMs) + 0.2 * sendMs);
    const slot = this.#held.get(job.id ?? "");
    this.#held.delete(job.id ?? "");
    if (slot) await this.#passOn(slot);
  }

  /**
   * The worker stops: no more renewals, and the slots kept for a next delivery that will not
   * come go back now (with Redis away, their leases run out instead).
   */
  async close(options: { giveBack: boolean }): Promise<void> {
    clearInterval(this.#renewal);
    const idle = [...this.#idle.values()].flat();
    this.#idle.clear();
    for (const { timer } of idle) clearTimeout(timer);
    if (options.giveBack) await Promise.all(idle.map(({ slot }) => this.#giveBack(slot)));
  }

  /** To a delivery waiting here; kept a moment for the next one; or back through Redis. */
  async #passOn(slot: Slot): Promise<void> {
    const { targetId } = slot;
    const next = this.#waitingHere.first(targetId);
    if (Date.now() - slot.syncedAt < syncEveryMs) {
      if (next && this.#waitingHere.leave(targetId, next)) next.answer(slot);
      else this.#keepIdle(slot);
      return;
    }
    // Through Redis: its lease renewed and kept for `next`, unless a parked one waited longer.
    const before = next ? next.createdAt - parkedFirstAfterMs : Number.POSITIVE_INFINITY;
    const keep = next && { deliveryId: slot.id, settings: this.settingsOf(targetId) };
    const parked = await this.slots.release(targetId, slot.id, before, keep);
    if (parked) return this.#wake(targetId, parked);
    if (!next) return;
    slot.syncedAt = Date.now();
    if (this.#waitingHere.leave(targetId, next)) next.answer(slot);
    else this.#keepIdle(slot);
  }

  #keepIdle(slot: Slot): void {
    const idle = this.#idle.get(slot.targetId) ?? [];
    this.#idle.set(slot.targetId, idle);
    const kept = {
      slot,
      timer: setTimeout(() => {
        idle.splice(idle.indexOf(kept), 1);
        void this.#giveBack(slot);
      }, keepIdleMs).unref(),
    };
    idle.push(kept);
  }

  #takeIdle(targetId: string): Slot | undefined {
    const kept = this.#idle.get(targetId)?.shift();
    if (!kept) return undefined;
    clearTimeout(kept.timer);
    return kept.slot;
  }

  async #claim(targetId: string): Promise<Slot | undefined> {
    this.#slotCount += 1;
    const slot = { id: `${this.#process}.${this.#slotCount}`, targetId, syncedAt: Date.now() };
    return (await this.slots.claim(targetId, slot.id, this.settingsOf(targetId))) ? slot : undefined;
  }

  /** Back to Redis, waking the first parked delivery for it. */
  async #giveBack(slot: Slot): Promise<void> {
    try {
      const parked = await this.slots.release(slot.targetId, slot.id, Number.POSITIVE_INFINITY);
      if (parked) await this.#wake(slot.targetId, parked);
    } catch {
      // Redis away: the slot's lease runs out by itself.
    }
  }

  /** Wakes a parked delivery; one that cannot be woken (gone, or running) passes its turn on. */
  async #wake(targetId: string, first: string): Promise<void> {
    let parked: string | undefined = first;
    for (let tries = 0; parked && tries < 3; tries += 1) {
      if (await this.#promote(parked)) return;
      parked = await this.slots.nextInLine(targetId);
    }
    // None could be: the one waiting here longest asks for the slot now free.
    const waiting = this.#waitingHere.first(targetId);
    if (waiting && this.#waitingHere.leave(targetId, waiting)) waiting.answer("askAgain");
  }

  async #wakeFirstInLine(targetId: string): Promise<void> {
    const first = await this.slots.nextInLine(targetId);
    if (first) await this.#wake(targetId, first);
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

  #waitHereMs(targetId: string): number {
    const sendMs = this.#sendMs.get(targetId) ?? 0;
    if (sendMs > slowSendMs) return waitHere.leastMs;
    return Math.min(Math.max(waitHere.sends * sendMs, waitHere.leastMs), waitHere.mostMs);
  }
}
