import type { Receipt } from "../../events.js";
import { type DeliveryProgress, type DeliveryProgressReader, isSettled } from "../../queue/delivery-progress.js";
import { age } from "../output.js";

/** How often Redis is asked again while deliveries are under way. */
const pollMs = 200;

/** A delivery the config says the sample should make. */
export interface ExpectedDelivery {
  /** `<receipt>.<event index>.<target id>`, the delivery job's id. */
  id: string;
  target: string;
  route: string;
}

/**
 * A delivery parked in the delayed set by a mute or the target's pace, not by a failed try:
 * the queue alone cannot tell the two apart, the history can (its last step is `held`).
 */
export interface HeldProgress {
  state: "held";
  by: string;
  /** When the relay looks at it again (a mute's end, or sooner: it re-checks its mutes). */
  until: string;
  /** The relay's words, e.g. `muted (target:crm until 2026-12-08T02:00:00.000Z)`. */
  why: string;
}

/** Where the history says each delivery of one webhook was held last, if its last step was a hold. */
export type HeldLookup = (receiptId: string) => Promise<Map<string, Omit<HeldProgress, "state">>>;

type Progress = DeliveryProgress | HeldProgress;

export type FollowedDelivery = ExpectedDelivery & Progress;

/**
 * Watches the deliveries of one accepted webhook until each is settled (delivered, a dead
 * letter) or `waitMs` has passed, saying one line for each as it settles and, at the end, one
 * for each still under way. It stops early when all that is left is retries due after the wait:
 * nothing could change before it ends.
 */
export async function followDeliveries(
  reader: DeliveryProgressReader,
  receipt: Pick<Receipt, "id" | "receivedAt">,
  expected: readonly ExpectedDelivery[],
  options: { waitMs: number; file: string; say: (line: string) => void; held?: HeldLookup },
): Promise<FollowedDelivery[]> {
  const deadline = Date.now() + options.waitMs;
  const latest = new Map<string, Progress>();
  const settled = new Set<string>();
  const idWidth = Math.max(...expected.map((delivery) => delivery.id.length));
  const say = (delivery: ExpectedDelivery, progress: Progress) => {
    const [label, text] = describeProgress(delivery.id, progress, options.file);
    options.say(`${label.padEnd(14)}  ${delivery.id.padEnd(idWidth)}  ${text}`);
  };

  for (;;) {
    const open = expected.filter((delivery) => !settled.has(delivery.id));
    const progress = await reader.of(
      receipt,
      open.map((delivery) => delivery.id),
    );
    // A delayed delivery is "retrying" to the queue even when no try failed: the history says
    // whether a mute or the pace holds it instead.
    const delayed = [...progress.values()].some((now) => now.state === "retrying");
    const holds = delayed && options.held ? await options.held(receipt.id) : new Map();
    for (const delivery of open) {
      const queued = progress.get(delivery.id);
      if (!queued) continue;
      const hold = queued.state === "retrying" ? holds.get(delivery.id) : undefined;
      const now: Progress = hold ? { state: "held", ...hold } : queued;
      latest.set(delivery.id, now);
      if (now.state !== "held" && isSettled(now)) {
        settled.add(delivery.id);
        say(delivery, now);
      }
    }
    const unsettled = expected.filter((delivery) => !settled.has(delivery.id));
    if (unsettled.length === 0 || Date.now() >= deadline) break;
    const nothingDueInTime = unsettled.every((delivery) => {
      const now = latest.get(delivery.id);
      if (now?.state === "held") return Date.parse(now.until) > deadline;
      return now?.state === "retrying" && now.nextTryAt !== undefined && Date.parse(now.nextTryAt) > deadline;
    });
    if (nothingDueInTime) break;
    await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, Math.max(0, deadline - Date.now()))));
  }

  for (const delivery of expected) {
    const now = latest.get(delivery.id);
    if (now && !settled.has(delivery.id)) say(delivery, now);
  }
  return expected.map((delivery) => ({ ...delivery, ...(latest.get(delivery.id) ?? { state: "not-queued" }) }));
}

const workersHint = "are the workers running? `npm start` runs both ingest and workers";

/** The label and the rest of a delivery's line. */
function describeProgress(id: string, progress: Progress, file: string): [string, string] {
  switch (progress.state) {
    case "held":
      return progress.by === "mute"
        ? ["held by mute", `not sent while ${progress.why}; it goes out when the mute ends, or at once on unmute`]
        : ["held", `${progress.why}; looked at again at ${progress.until}`];
    case "delivered":
      return ["delivered", progress.detail];
    case "dead-letter":
      return ["dead letter", `${progress.reason} (see ticket-relay dlq show ${id})`];
    case "retrying": {
      // A delivery with no failed try is waiting its turn (the history, if off, cannot say why).
      if (progress.lastError === undefined || progress.tries === 0) {
        const when = progress.nextTryAt ? ` until ${progress.nextTryAt}` : "";
        return ["held", `not tried yet: held${when} (a mute or the target's pace; see ticket-relay mutes)`];
      }
      // age() measures from the first time to the second: here, from now to the next try.
      const next = progress.nextTryAt
        ? `next try in ${age(new Date().toISOString(), Date.parse(progress.nextTryAt))} (${progress.nextTryAt})`
        : "next try soon";
      return ["still retrying", `try ${progress.tries} of ${progress.attempts} failed: ${progress.lastError}; ${next}`];
    }
    case "sending":
      return ["being sent", `try ${progress.tries} is under way`];
    case "queued":
      return progress.waitingFor === "routing"
        ? ["still queued", `the webhook is not routed yet: ${workersHint}`]
        : ["still queued", `no worker has taken it yet: ${workersHint}`];
    case "routing-failed":
      return ["not routed", `routing the webhook failed: ${progress.reason}`];
    case "not-queued":
      return [
        "not queued",
        `the running relay routed the event without it: do its routes differ from ${file}? restart it after editing`,
      ];
  }
}
