import type { Job, Queue } from "bullmq";
import type { DeliveryJob } from "../jobs.js";
import { goOn, park, type StageAnswer } from "./outcome.js";
import type { SlotSettings, TargetSlots } from "./target-slots.js";
import { lookAgainMs } from "./ticket-order.js";

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
 * A slot given back in this process goes to a delivery waiting here rather than to a parked
 * one, unless the parked one joined its line this much earlier: handing over here costs no
 * worker a pick-up, and the parked ones still get their turn while new deliveries keep coming.
 */
const parkedFirstAfterMs = 10_000;

/** A delivery of this process waiting here for a slot of its target. */
interface WaitingHere {
  id: string;
  createdAt: number;
  /** Ends its wait: a slot was handed over to it, or one is free to ask for. */
  answer: (answer: "handedOver" | "askAgain") => void;
}

type WaitAnswer = "handedOver" | "askAgain" | "timedOut";

/**
 * The delivery pipeline's step right before the send: a slot among the target's `concurrency`
 * (queue/delivery/target-slots.ts). A delivery that finds none waits briefly here, where a slot
 * this process gives back is handed over to it in the same Redis call; after that it is parked in
 * BullMQ's delayed set, using none of its tries and holding no worker, in its target's line,
 * until a freed slot wakes it. Every slot taken is given back by `release`, whatever the send's
 * outcome.
 */
export class DeliverySlots {
  /** Per target, the deliveries waiting here, oldest job first. */
  readonly #waitingHere = new Map<string, WaitingHere[]>();
  /** Per target, how long its sends took of late (ms, a moving average). */
  readonly #sendMs = new Map<string, number>();

  constructor(
    private readonly slots: TargetSlots,
    /** The delivery queue, to wake a parked delivery when a slot frees. */
    private readonly deliveries: Queue<DeliveryJob>,
    /** The target's `concurrency` and lease, as the config in force now has it. */
    private readonly settingsOf: (targetId: string) => SlotSettings,
  ) {}

  /** Goes on once the delivery holds a slot; otherwise parks it (a "held" outcome). */
  async waitForSlot(job: Job<DeliveryJob>, token: string | undefined): Promise<StageAnswer> {
    const { targetId } = job.data;
    const id = job.id ?? "";
    const claim = () => this.slots.claim(targetId, id, this.settingsOf(targetId));
    if (await claim()) return goOn;
    const until = Date.now() + this.#waitHereMs(targetId);
    while (Date.now() < until) {
      const answer = await this.#waitHere(targetId, id, job.timestamp, until - Date.now());
      if (answer === "handedOver") return goOn;
      if (answer === "askAgain" && (await claim())) return goOn;
    }
    // Asked again: one given back by another process meanwhile.
    if (await claim()) return goOn;
    const ahead = await this.slots.lineLength(targetId);
    // Woken by a release; the look is a safety net, later the further back in line it is.
    const held = await park(job, token, {
      by: "slot",
      until: Date.now() + lookAgainMs(ahead + 1),
      why: `${ahead} ahead in line for a slot of ${targetId}`,
    });
    // In line only once parked, so that a release that takes it off the line finds it to wake.
    await this.slots.joinLine(targetId, id, job.timestamp);
    // A slot handed over to it as it stopped waiting, or given back before it was in line, is
    // free for the first in line: woken now. Not kept for this one: a woken job waits behind
    // the whole queue, and a slot held for it would sit unused all that time.
    const handedOver = await this.slots.giveBack(targetId, id);
    if (handedOver || (await this.slots.freeSlots(targetId, this.settingsOf(targetId))) > 0) {
      const first = await this.slots.nextInLine(targetId);
      if (first) await this.#promote(first);
    }
    return held;
  }

  /** The send is over, whatever its outcome: the slot goes to a delivery waiting here, or a parked one. */
  async release(job: Job<DeliveryJob>, sendMs: number): Promise<void> {
    const { targetId } = job.data;
    this.#sendMs.set(targetId, 0.8 * (this.#sendMs.get(targetId) ?? sendMs) + 0.2 * sendMs);
    const next = this.#waitingHere.get(targetId)?.[0];
    const before = next ? next.createdAt - parkedFirstAfterMs : Number.POSITIVE_INFINITY;
    const handTo = next && { deliveryId: next.id, settings: this.settingsOf(targetId) };
    let parked: string | undefined = await this.slots.release(targetId, job.id ?? "", before, handTo);
    if (!parked) {
      // The slot is next's now, handed over in the same call; one that stopped waiting meanwhile
      // finds it when it asks again, or gives it back as it parks.
      if (next && this.#leave(targetId, next)) next.answer("handedOver");
      return;
    }
    // A parked one that cannot be woken (its job is gone, or running already) passes its turn on.
    for (let tries = 0; parked && tries < 3; tries += 1) {
      if (await this.#promote(parked)) return;
      parked = await this.slots.nextInLine(targetId);
    }
    // None could be: the one waiting here longest asks for the slot now free.
    const waiting = this.#waitingHere.get(targetId)?.[0];
    if (waiting && this.#leave(targetId, waiting)) waiting.answer("askAgain");
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

  /** Waits here at most `ms` for a slot this process gives back: handed over, or to ask for. */
  #waitHere(targetId: string, id: string, createdAt: number, ms: number): Promise<WaitAnswer> {
    return new Promise((resolve) => {
      const line = this.#waitingHere.get(targetId) ?? [];
      this.#waitingHere.set(targetId, line);
      const waiting: WaitingHere = {
        id,
        createdAt,
        answer: (answer) => {
          clearTimeout(timer);
          resolve(answer);
        },
      };
      const timer = setTimeout(() => {
        this.#leave(targetId, waiting);
        resolve("timedOut");
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
