import type { Job, Queue } from "bullmq";
import type { Receipt } from "../events.js";
import { tryLine } from "./dead-letters.js";
import type { SentMarks } from "./delivery/sent-marks.js";
import type { WebhookStream } from "./inbound/webhook-stream.js";
import type { DeliveryJob, InboundJob } from "./jobs.js";

/** Where one delivery of one accepted webhook is now, as `ticket-relay try` follows it. */
export type DeliveryProgress =
  /** Its target accepted it; `detail` is what the target said (`posted to C0123 at 1700000000.000100`). */
  | { state: "delivered"; detail: string }
  /** It gave up: a dead letter, to be seen with `dlq show`. */
  | { state: "dead-letter"; reason: string; tries: number }
  /** A try failed and another is scheduled. */
  | { state: "retrying"; lastError: string; tries: number; attempts: number; nextTryAt?: string }
  /** A worker is sending it right now. */
  | { state: "sending"; tries: number }
  /** Waiting for a worker: to route the webhook (no delivery job yet), or to send the delivery. */
  | { state: "queued"; waitingFor: "routing" | "delivery" }
  /** The webhook's routing job failed for good, so no delivery was made from it. */
  | { state: "routing-failed"; reason: string }
  /** The webhook was routed, and this delivery was not among what it made. */
  | { state: "not-queued" };

/** A delivery no later look can change (short of a replay). */
export function isSettled(progress: DeliveryProgress): boolean {
  return ["delivered", "dead-letter", "routing-failed", "not-queued"].includes(progress.state);
}

/**
 * Reads where deliveries are from what the relay keeps in Redis: the webhook's entry in the
 * webhook stream until it is routed (or its inbound job, id: the receipt id, after a failure
 * there), then each delivery job, then its sent mark. A delivery moves through these in that
 * order (routed, queued, tried, marked sent, removed), so reading them in the same order never
 * mistakes one in motion for one that is missing.
 */
export class DeliveryProgressReader {
  constructor(
    private readonly stream: Pick<WebhookStream, "isWaitingForRouting">,
    private readonly inbound: Queue<InboundJob>,
    private readonly deliveries: Queue<DeliveryJob>,
    private readonly sent: SentMarks,
  ) {}

  /** The progress of each delivery made from the webhook with this receipt. */
  async of(
    { id: receiptId, receivedAt }: Pick<Receipt, "id" | "receivedAt">,
    deliveryIds: readonly string[],
  ): Promise<Map<string, DeliveryProgress>> {
    const progress = new Map<string, DeliveryProgress>();
    const pending: string[] = [];
    // A sent mark is final, and the most common answer once workers run: looked at first.
    for (const id of deliveryIds) {
      const detail = await this.sent.find(id);
      if (detail !== undefined) progress.set(id, { state: "delivered", detail });
      else pending.push(id);
    }
    if (pending.length === 0) return progress;

    const routing = await this.#routing(receiptId, receivedAt);
    if (routing) {
      for (const id of pending) progress.set(id, routing);
      return progress;
    }
    for (const id of pending) progress.set(id, await this.#delivery(id));
    return progress;
  }

  /** While the webhook is not routed yet: in the webhook stream, or in the inbound queue after a failure there. */
  async #routing(receiptId: string, receivedAt: string): Promise<DeliveryProgress | undefined> {
    // The stream first: a webhook leaves it only once its deliveries or its inbound job exist.
    if (await this.stream.isWaitingForRouting(receiptId, receivedAt)) return { state: "queued", waitingFor: "routing" };
    const job = await this.inbound.getJob(receiptId);
    const state = job ? await job.getState() : "unknown";
    if (job && state === "failed") return { state: "routing-failed", reason: job.failedReason };
    if (job && state !== "unknown" && state !== "completed") return { state: "queued", waitingFor: "routing" };
    return undefined;
  }

  async #delivery(id: string): Promise<DeliveryProgress> {
    const job = await this.deliveries.getJob(id);
    const state = job ? await job.getState() : "unknown";
    if (job) {
      const tries = job.attemptsMade + job.stalledCounter;
      switch (state) {
        case "failed":
          return { state: "dead-letter", reason: job.failedReason, tries };
        case "delayed":
          return {
            state: "retrying",
            lastError: (await this.#lastError(job)) ?? job.failedReason,
            tries,
            attempts: job.opts.attempts ?? 1,
            ...(await this.#nextTryAt(id)),
          };
        case "active":
          return { state: "sending", tries: tries + 1 };
        case "waiting":
        case "prioritized":
        case "waiting-children":
          return { state: "queued", waitingFor: "delivery" };
      }
    }
    // Gone (or completed, which removes it at once): sent, unless the relay never made it.
    const detail = await this.sent.find(id);
    return detail !== undefined ? { state: "delivered", detail } : { state: "not-queued" };
  }

  async #lastError(job: Job<DeliveryJob>): Promise<string | undefined> {
    const { logs } = await this.deliveries.getJobLogs(job.id ?? "");
    const last = logs.findLast((line) => tryLine.test(line));
    return last ? tryLine.exec(last)?.[2] : undefined;
  }

  /** BullMQ keeps a delayed job's due time in its sorted-set score, times 4096 plus a counter. */
  async #nextTryAt(id: string): Promise<{ nextTryAt?: string }> {
    const client = await this.deliveries.getBackend().client;
    const score = await client.zscore(this.deliveries.keys.delayed ?? "", id);
    return score === null ? {} : { nextTryAt: new Date(Math.floor(Number(score) / 0x1000)).toISOString() };
  }
}
