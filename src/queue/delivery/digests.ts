import { createHash } from "node:crypto";
import type { Job, Queue } from "bullmq";
import type { DigestConfig } from "../../config/digest-schema.js";
import { conversationOf, type RelayEvent, receiptIdOf } from "../../events.js";
import type { Logger } from "../../log.js";
import type { DigestListing } from "../../messages/message.js";
import { fieldReader } from "../../routing/fields.js";
import type { DeliveryReceipt, Target } from "../../targets/target.js";
import { type DeliveryJob, deliveryJobOptions } from "../jobs.js";
import type { DeliveryPolicy } from "../retry.js";
import type { DigestWindows } from "./digest-windows.js";

/** A window this long past its end still open means its closing job was lost: queue it again. */
const overdueAfterMs = 10_000;
/** Long texts in a listed event are cut: a digest shows one line per event, never its words. */
const listedTextLength = 500;

export interface DigestDeps {
  windows: DigestWindows;
  /** The delivery queue: closing jobs, digests, thread replies and lone events are delivery jobs. */
  deliveries: Queue<DeliveryJob>;
  /** The target's `digest`, as the config in force now has it. */
  settingsOf: (targetId: string) => DigestConfig | undefined;
  policyFor: (targetId: string) => DeliveryPolicy;
  logger: Logger;
}

/**
 * Digests (docs/configuration.md, "Digests"). A delivery to a target with a `digest` joins the
 * open window of its group in Redis (queue/delivery/digest-windows.ts) and is done; the first one of a
 * window queues a delayed job that closes the window when it ends and queues what it sends: one
 * event alone as itself; two or more as one digest, and on a target that threads, a reply in
 * each one's existing thread. Those are delivery jobs like any other, with retries, dead
 * letters and sent marks, so a digest is sent once, whichever worker runs which step and
 * however often one dies.
 */
export class Digests {
  constructor(private readonly deps: DigestDeps) {}

  /**
   * The digest's part in one delivery, before it takes its turn to send: the receipt when the
   * delivery's work ends here (it joined a window, or closed one), undefined when it is sent.
   */
  async collect(job: Job<DeliveryJob>, target: Target): Promise<DeliveryReceipt | undefined> {
    const { digest, fallbackFor, targetId } = job.data;
    if (digest?.step === "close") return this.close(job.data, digest);
    // A digest's message, a thread reply, a lone event and a fallback delivery are sent as they are.
    if (digest || fallbackFor) return undefined;
    const settings = this.deps.settingsOf(targetId);
    if (!settings) return undefined;
    return this.join(job.id ?? "", job.data, settings, !!target.replyInThread);
  }

  private async join(
    deliveryId: string,
    data: DeliveryJob,
    settings: DigestConfig,
    targetThreads: boolean,
  ): Promise<DeliveryReceipt> {
    const { event, targetId, route } = data;
    const group = groupOf(event, route, settings.groupBy);
    const groupKey = keyOfGroup(group);
    const { windowId, status, openedAt } = await this.deps.windows.join(
      { targetId, groupKey, deliveryId },
      {
        kept: { event, route },
        listed: { event: listedEvent(event), route },
        forThread: targetThreads && conversationOf(event) !== undefined,
      },
      { windowMs: settings.window, max: settings.max, group },
    );
    const endsAt = openedAt + settings.window;
    // A delivery run again may have died before queuing the closing job; adding it twice is a no-op.
    if (status !== "joined" || Date.now() > endsAt + overdueAfterMs) {
      await this.queueClose(data, groupKey, windowId, endsAt);
    }
    this.deps.logger.info(
      // The receipt id, as on every line about a delivery: `grep <receipt id>` follows one webhook.
      { receiptId: receiptIdOf(event), deliveryId, target: targetId, route, type: event.type, window: windowId },
      status === "opened" ? "opened a digest window" : "joined a digest window",
    );
    return { detail: `in digest window ${windowId}` };
  }

  private async queueClose(data: DeliveryJob, groupKey: string, windowId: string, endsAt: number): Promise<void> {
    const { targetId, route } = data;
    const id = `digest-${groupKey}-${windowId}.close`;
    await this.deps.deliveries.add(
      targetId,
      { event: digestEvent(data.event, id), targetId, route, digest: { step: "close", groupKey, windowId } },
      { ...deliveryJobOptions(id, targetId, this.deps.policyFor(targetId)), delay: Math.max(0, endsAt - Date.now()) },
    );
  }

  /**
   * Closes the window and queues what it sends. Run again (a crash, a retry), it finds the
   * window already closed and queues the same job ids again, which BullMQ ignores; once they
   * are queued the closed window is removed, and a later run has nothing left to do.
   */
  private async close(
    data: DeliveryJob,
    { groupKey, windowId }: { groupKey: string; windowId: string },
  ): Promise<DeliveryReceipt> {
    const { windows, deliveries, logger, policyFor } = this.deps;
    const { targetId } = data;
    const window = await windows.close(targetId, groupKey, windowId);
    if (!window) return { detail: `digest window ${windowId} was closed before` };

    const policy = policyFor(targetId);
    let detail: string;
    if (window.count === 1) {
      const { event, route } = window.first;
      await deliveries.add(
        targetId,
        { event, targetId, route, digest: { step: "alone" } },
        deliveryJobOptions(`${event.id}.alone`, targetId, policy),
      );
      detail = "its one event is sent as itself";
    } else {
      const { count, listed: entries, group, windowMs, openedAt, closedAt } = window;
      const listing: DigestListing = { count, entries, group, windowMs, openedAt, closedAt };
      const id = `digest-${groupKey}-${windowId}.send`;
      const routes = [...new Set(entries.map((entry) => entry.route))].join(", ");
      await deliveries.addBulk([
        {
          name: targetId,
          data: {
            event: digestEvent(window.first.event, id),
            targetId,
            route: routes,
            digest: { step: "send", listing },
          },
          opts: deliveryJobOptions(id, targetId, policy),
        },
        // The ticket's view after the channel's: each event in its own thread, where it has one.
        ...window.threads.map(({ event, route }) => ({
          name: targetId,
          data: { event, targetId, route, digest: { step: "thread" as const } },
          opts: deliveryJobOptions(`${event.id}.thread`, targetId, policy),
        })),
      ]);
      const replies = window.threads.length ? `, and ${window.threads.length} thread replies` : "";
      detail = `its ${count} events are sent as one digest${replies}`;
    }
    await windows.remove(targetId, groupKey, windowId);
    logger.info({ target: targetId, window: windowId, events: window.count }, `digest window closed: ${detail}`);
    return { detail: `digest window ${windowId} closed: ${detail}` };
  }
}

/** The values of the `groupBy` fields for one delivery, each as text ("" when the event has none). */
export function groupOf(event: RelayEvent, route: string, groupBy: readonly string[]): Record<string, string> {
  const group: Record<string, string> = {};
  for (const field of groupBy) {
    const value = field === "route" ? route : fieldReader(field === "type" ? "event" : field)(event);
    group[field] = Array.isArray(value) ? value.join(",") : value === undefined ? "" : String(value);
  }
  return group;
}

/** A short hash of a group's values: a Redis key and a job id may not hold what a payload says. */
function keyOfGroup(group: Record<string, string>): string {
  return createHash("sha256").update(JSON.stringify(group)).digest("hex").slice(0, 16);
}

/** An event as a digest lists it: without the platform's payload, its long texts cut. */
function listedEvent(event: RelayEvent): RelayEvent {
  const cut = (text: string | undefined) =>
    text && text.length > listedTextLength ? `${text.slice(0, listedTextLength - 1)}…` : text;
  const listed: RelayEvent = { ...event, raw: null };
  if (event.message) listed.message = { ...event.message, text: cut(event.message.text) };
  if (event.ticket) listed.ticket = { ...event.ticket, message: cut(event.ticket.message) };
  return listed;
}

/**
 * The event a digest's own jobs carry, for logs and `dlq`: it names the source but no ticket,
 * so no thread takes the digest. Received when the window's first event was, so the delivery
 * time a digest reports is its first event's wait.
 */
function digestEvent(first: RelayEvent, id: string): RelayEvent {
  return {
    id,
    source: first.source,
    sourceType: first.sourceType,
    type: "digest",
    known: true,
    receivedAt: first.receivedAt,
    raw: null,
  };
}
