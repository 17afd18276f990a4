import { DelayedError, type Job } from "bullmq";
import { receiptIdOf } from "../../events.js";
import type { Logger } from "../../log.js";
import type { DeliveryReceipt } from "../../targets/target.js";
import type { DeliveryJob } from "../jobs.js";
import { type Mute, type Mutes, muteId } from "../mutes.js";

/**
 * A held delivery looks at its mutes again at least this often, even if nobody lifts them:
 * a mute removed behind the relay's back (by hand in Redis) then holds nothing for longer.
 * Lifting a mute with `unmute` releases its deliveries at once, without waiting for this.
 */
export const muteRecheckMs = 5 * 60_000;

/**
 * The delivery pipeline's mute step (queue/mutes.ts), before the target is tried: a delivery
 * whose target or route is muted is moved back to the delayed set until the mute ends, with
 * `job.moveToDelayed` and a DelayedError, so it uses none of its tries and holds no worker
 * slot meanwhile; or, when a mute says `drop`, it is completed without being sent.
 */
export class MuteHold {
  constructor(
    private readonly mutes: Mutes,
    private readonly logger: Logger,
  ) {}

  /**
   * Undefined: no mute, send it. A receipt: dropped. Throws DelayedError once held; `token`
   * is the worker's lock on the job, which BullMQ hands the processor.
   */
  async check(job: Job<DeliveryJob>, token: string | undefined): Promise<DeliveryReceipt | undefined> {
    const { targetId, route, event } = job.data;
    if ((await this.mutes.on(targetId, route)).length === 0) return undefined;
    // The cache may predate an unmute that released this very delivery: ask Redis itself.
    const mutes = await this.mutes.on(targetId, route, { fresh: true });
    if (mutes.length === 0) return undefined;
    const deliveryId = job.id ?? "";
    const logger = this.logger.child({ receiptId: receiptIdOf(event) });
    const fields = { deliveryId, target: targetId, route, type: event.type, ticketId: event.ticketId };

    const dropping = mutes.find((mute) => mute.drop);
    if (dropping) {
      logger.info({ ...fields, mute: muteId(dropping), until: dropping.until }, "delivery dropped: muted");
      return { detail: `dropped: muted (${muteId(dropping)} until ${dropping.until})` };
    }
    if (token === undefined) throw new Error("a muted delivery can only be held by a worker that holds its lock");
    const last = mutes.reduce((a, b) => (Date.parse(b.until) > Date.parse(a.until) ? b : a));
    const until = Math.min(Date.parse(last.until), Date.now() + muteRecheckMs);
    // Noted before the move, so an unmute that comes after the move finds it to release.
    if (await this.mutes.noteHeld(mutes, deliveryId)) {
      logger.info({ ...fields, mute: describe(mutes), until: last.until }, "delivery held: muted");
    }
    await job.moveToDelayed(until, token);
    // An unmute between the read above and the move found it not yet delayed: look again.
    if ((await this.mutes.on(targetId, route, { fresh: true })).length === 0) {
      await job.promote().catch(() => undefined);
    }
    throw new DelayedError();
  }
}

function describe(mutes: readonly Mute[]): string {
  return mutes.map(muteId).join(", ");
}
