import { DelayedError, type Job, type Queue } from "bullmq";
import type { Logger } from "../../log.js";
import type { DeliveryJob } from "../jobs.js";
import type { TargetSlots } from "./target-slots.js";
import { lookAgainMs } from "./ticket-order.js";

/**
 * How long a delivery whose target's slots are all taken waits in this process before it is
 * parked: a fast target frees a slot within milliseconds, and a wait that short costs less
 * than parking and waking the job; a slow one does not, and then the delivery gives its
 * worker slot back to the other targets.
 */
const waitHereMs = 100;

/**
 * The delivery pipeline's step right before the send: a slot among the target's `concurrency`
 * (queue/delivery/target-slots.ts). A delivery that finds none waits briefly here, then is
 * parked in BullMQ's delayed set, using none of its tries, until a slot frees and wakes it.
 * Every slot taken is given back by `release`, whatever the send's outcome.
 */
export class DeliverySlots {
  /** Deliveries of this process waiting here for a slot, to be woken by a release without Redis. */
  readonly #waitingHere = new Map<string, () => void>();

  constructor(
    private readonly slots: TargetSlots,
    /** The delivery queue, to wake a parked delivery when a slot frees. */
    private readonly deliveries: Queue<DeliveryJob>,
    /** The target's `concurrency`, as the config in force now has it. */
    private readonly limitOf: (targetId: string) => number,
    private readonly logger: Logger,
  ) {}

  /** Resolves once the delivery holds a slot; otherwise parks the job (throws DelayedError). */
  async take(job: Job<DeliveryJob>, token: string | undefined): Promise<void> {
    const { targetId } = job.data;
    const id = job.id ?? "";
    const limit = this.limitOf(targetId);
    let answer = await this.slots.take(targetId, id, limit);
    if (answer.kind === "go") return;
    this.#wake(answer.wake);
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, waitHereMs);
      this.#waitingHere.set(id, () => {
        clearTimeout(timer);
        resolve();
      });
    });
    this.#waitingHere.delete(id);
    answer = await this.slots.take(targetId, id, limit);
    if (answer.kind === "go") return;
    this.#wake(answer.wake);
    // A worker always hands its processor the job's lock token; without one, nothing can move the job.
    if (!token) throw new Error("a delivery cannot wait for a slot without its job's lock token");
    this.logger.debug({ deliveryId: id, target: targetId, place: answer.place }, "waits for a slot of its target");
    await job.moveToDelayed(Date.now() + lookAgainMs(answer.place + 1), token);
    // A slot that freed between the ask and the move woke a job not yet parked: ask once more.
    if ((await this.slots.take(targetId, id, limit)).kind === "go") await job.promote().catch(() => undefined);
    throw new DelayedError();
  }

  /** The send is over, whatever its outcome: the slot goes to the next in line. */
  async release(job: Job<DeliveryJob>): Promise<void> {
    const { targetId } = job.data;
    this.#wake(await this.slots.release(targetId, job.id ?? "", this.limitOf(targetId)));
  }

  #wake(waiters: string[]): void {
    for (const id of waiters) {
      const here = this.#waitingHere.get(id);
      if (here) {
        here();
        continue;
      }
      // Parked (or in another process, where it asks again within waitHereMs): promoted if parked.
      void this.deliveries
        .getJob(id)
        .then((parked) => parked?.promote())
        .catch(() => undefined);
    }
  }
}
