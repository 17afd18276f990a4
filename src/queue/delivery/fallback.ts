import type { Job, Queue } from "bullmq";
import type { DeliveryJob } from "../jobs.js";
import { deliveryJobOptions } from "../jobs.js";
import type { DeliveryPolicy } from "../retry.js";

/**
 * The last step for a delivery that gave up: when its target names a `fallback`, the same
 * event goes there once, with the reason. A fallback delivery never falls back again, so a
 * failure there is a dead letter of its own and never a loop. Its job id is the one a direct
 * delivery of this event to that target would have, so a target that already got the event
 * by a route does not get it twice.
 */
export class Fallbacks {
  constructor(
    private readonly deliveries: Queue<DeliveryJob>,
    private readonly fallbackOf: (targetId: string) => string | undefined,
    private readonly policyFor: (targetId: string) => DeliveryPolicy,
  ) {}

  /** The fallback target's id when one was queued. */
  async queueFor(job: Job<DeliveryJob>, reason: string): Promise<string | undefined> {
    const { event, targetId, route, fallbackFor, digest } = job.data;
    // A digest window's closing job sends nothing itself, so it has nothing to fall back with.
    const fallbackId = fallbackFor || digest?.step === "close" ? undefined : this.fallbackOf(targetId);
    if (!fallbackId) return undefined;
    await this.deliveries.add(
      fallbackId,
      // A digest falls back as the digest it is.
      {
        event,
        targetId: fallbackId,
        route,
        fallbackFor: { targetId, reason },
        ...(digest?.step === "send" && { digest }),
      },
      deliveryJobOptions(event.id, fallbackId, this.policyFor(fallbackId)),
    );
    return fallbackId;
  }
}
