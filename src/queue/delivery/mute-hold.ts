import type { Job } from "bullmq";
import type { DeliveryJob } from "../jobs.js";
import { type Mute, type Mutes, muteId } from "../mutes.js";
import { goOn, park, type StageAnswer } from "./outcome.js";

/**
 * A held delivery looks at its mutes again at least this often, even if nobody lifts them:
 * a mute removed behind the relay's back (by hand in Redis) then holds nothing for longer.
 * Lifting a mute with `unmute` releases its deliveries at once, without waiting for this.
 */
export const muteRecheckMs = 5 * 60_000;

/**
 * The delivery pipeline's mute stage (queue/mutes.ts), before the target is tried: a delivery
 * whose target or route is muted is parked in the delayed set until the mute ends (a "held"
 * outcome), so it uses none of its tries and holds no worker slot meanwhile; or, when a mute
 * says `drop`, it is "dropped" without being sent.
 */
export class MuteHold {
  constructor(private readonly mutes: Mutes) {}

  /** Goes on when nothing mutes the delivery; else held or dropped. */
  async holdIfMuted(job: Job<DeliveryJob>, token: string | undefined): Promise<StageAnswer> {
    const { targetId, route } = job.data;
    if ((await this.mutes.on(targetId, route)).length === 0) return goOn;
    // The cache may predate an unmute that released this very delivery: ask Redis itself.
    const mutes = await this.mutes.on(targetId, route, { fresh: true });
    if (mutes.length === 0) return goOn;
    const deliveryId = job.id ?? "";

    const dropping = mutes.find((mute) => mute.drop);
    if (dropping) {
      return {
        kind: "dropped",
        by: "mute",
        why: `dropped: muted (${muteId(dropping)} until ${dropping.until})`,
        details: { mute: muteId(dropping), until: dropping.until },
      };
    }
    const last = mutes.reduce((a, b) => (Date.parse(b.until) > Date.parse(a.until) ? b : a));
    // Noted before the move, so an unmute that comes after the move finds it to release.
    const firstHold = await this.mutes.noteHeld(mutes, deliveryId);
    const held = await park(job, token, {
      by: "mute",
      until: Math.min(Date.parse(last.until), Date.now() + muteRecheckMs),
      why: `muted (${describe(mutes)} until ${last.until})`,
      // One line per held delivery, however often it looks again.
      quiet: !firstHold,
      details: { mute: describe(mutes), until: last.until },
    });
    // An unmute between the read above and the move found it not yet delayed: look again.
    if ((await this.mutes.on(targetId, route, { fresh: true })).length === 0) {
      await job.promote().catch(() => undefined);
    }
    return held;
  }
}

function describe(mutes: readonly Mute[]): string {
  return mutes.map(muteId).join(", ");
}
