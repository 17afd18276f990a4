import type { Job, Queue } from "bullmq";
import type { TargetConfig } from "../config/schema.js";
import type { RelayEvent } from "../events.js";
import { type MessageTemplates, noTemplates } from "../messages/templates.js";
import type { RedisClient } from "../redis/connector.js";
import type { DeliveryJob } from "./jobs.js";
import type { RelayKeys } from "./queues.js";
import { type WouldSend, wouldSend } from "./would-send.js";

export interface DeadLetterError {
  /** ISO time. */
  at: string;
  reason: string;
}

/** One delivery that gave up, as `dlq list` and `GET /admin/dlq` show it. */
export interface DeadLetter {
  /** The delivery id, `<event id>.<target id>`; a replay keeps it. */
  id: string;
  target: string;
  route: string;
  source: string;
  eventType: string;
  ticketId?: string;
  /** When the delivery was queued, and when it gave up (ISO times). */
  queuedAt: string;
  failedAt: string;
  /** Tries since it was queued or last replayed, those a crashed worker ended included. */
  tries: number;
  firstError: DeadLetterError;
  lastError: DeadLetterError;
  /** On a fallback delivery: the target that gave up first, and why. */
  fallbackFor?: { targetId: string; reason: string };
}

/** One dead letter in full, as `dlq show` tells it. */
export interface DeadLetterDetail extends DeadLetter {
  /** Every line kept with the delivery: each failed try, each replay. */
  log: string[];
  event: RelayEvent;
  message: WouldSend;
}

/** Which dead letters a replay or purge is about: named ones, one target's, or all. */
export type Selector = { ids: string[] } | { target: string } | { all: true };

/** A failed try as the delivery pipeline logs it with the job: `<ISO time> try <n>: <reason>`. */
export const tryLine = /^(\S+) try \d+: ([\s\S]*)$/;
const replayLine = /^\S+ replayed\b/;
/** Replays and purges run this many jobs at a time: 10,000 dead letters one by one would crawl. */
const batchSize = 100;

/**
 * The dead-letter list is BullMQ's failed set of the delivery queue: a delivery that used up
 * its tries, or failed for good, ends there with its event, and stays for `deadLetters.keep`.
 * This reads it, replays from it and purges it, for the `dlq` commands and the admin API.
 */
export class DeadLetters {
  constructor(
    private readonly queue: Queue<DeliveryJob>,
    private readonly keys: RelayKeys,
    private readonly targets: Readonly<Record<string, TargetConfig>>,
    /** For `show`: the templates a replay would apply (messages/templates.ts). */
    private readonly templates: MessageTemplates = noTemplates,
  ) {}

  /** Newest first; `since` (ms) keeps those that gave up within it. */
  async list(filter: { target?: string; since?: number } = {}): Promise<DeadLetter[]> {
    const jobs = await this.#failedJobs({ target: filter.target ?? "", since: filter.since });
    return inBatches(jobs, async (job) => this.#describe(job, await this.#logOf(job)));
  }

  /**
   * The newest `limit` dead letters the filter takes, and how many it takes in all, reading each
   * job whole (and its log) only for those shown: the console lists them at `deadLetters.max`
   * (10,000) without loading 10,000 jobs. A job's name is its target (queue/inbound/webhook-routing.ts).
   */
  async page(filter: {
    target?: string;
    since?: number;
    limit: number;
  }): Promise<{ letters: DeadLetter[]; matching: number }> {
    const client = (await this.queue.getBackend().client) as unknown as RedisClient;
    const ids = await client.zrevrange(this.keys.failedDeliveries, 0, -1);
    const reads = client.pipeline();
    for (const id of ids) reads.hmget(this.keys.deliveryJob(id), "name", "finishedOn");
    const fields = ((await reads.exec()) ?? []).map(([, answer]) => (answer ?? []) as (string | null)[]);
    const oldest = filter.since === undefined ? 0 : Date.now() - filter.since;
    const taken = ids.filter((_, index) => {
      const [name, finishedOn] = fields[index] ?? [];
      if (filter.target && name !== filter.target) return false;
      return Number(finishedOn ?? 0) >= oldest;
    });
    const shown = await inBatches(taken.slice(0, filter.limit), (id) => this.#deadLetter(id));
    const letters = await inBatches(
      shown.filter((job) => job !== undefined),
      async (job) => this.#describe(job, await this.#logOf(job)),
    );
    return { letters, matching: taken.length };
  }

  /** The whole record and the message a replay would send, or undefined when `id` is no dead letter. */
  async show(id: string): Promise<DeadLetterDetail | undefined> {
    const job = await this.#deadLetter(id);
    if (!job) return undefined;
    const log = await this.#logOf(job);
    const message = wouldSend(id, job.data, this.targets[job.data.targetId], this.templates);
    return { ...this.#describe(job, log), log, event: job.data.event, message };
  }

  /**
   * Queues the dead letters again under the same delivery ids, with all their tries: BullMQ's
   * own count of failures, and its count of tries a crashed worker ended (`stc`), which the
   * relay counts as tries too (queue/worker-settings.ts). Replayed, a delivery leaves the list.
   */
  async replay(
    selector: Selector & { since?: number },
    /** Gets the id of each dead letter replayed, for the history to note it. */
    replayedIds: string[] = [],
  ): Promise<{ replayed: number; notFound: string[] }> {
    const { found, notFound } = await this.#select(selector, { since: selector.since });
    const client = await this.queue.getBackend().client;
    const done = await inBatches(found, async (job) => {
      const id = job.id ?? "";
      // Before the retry, so the line comes ahead of the new tries' own; `first error` starts after it.
      await job.log(`${new Date().toISOString()} replayed`);
      await client.hdel(this.keys.deliveryJob(id), "stc");
      try {
        await job.retry("failed", { resetAttemptsMade: true, resetAttemptsStarted: true });
        replayedIds.push(id);
        return true;
      } catch {
        // Replayed or purged by someone else meanwhile.
        notFound.push(id);
        return false;
      }
    });
    return { replayed: done.filter(Boolean).length, notFound };
  }

  /** Deletes the dead letters, their event and log with them; `olderThan` (ms) spares newer ones. */
  async purge(selector: Selector & { olderThan?: number }): Promise<{ purged: number; notFound: string[] }> {
    const { found, notFound } = await this.#select(selector, { olderThan: selector.olderThan });
    const removed = await inBatches(found, (job) => this.queue.remove(job.id ?? ""));
    return { purged: removed.filter((count) => count > 0).length, notFound };
  }

  async #select(selector: Selector, age: { since?: number; olderThan?: number }) {
    if ("ids" in selector) {
      const ids = [...new Set(selector.ids)];
      const jobs = await inBatches(ids, (id) => this.#deadLetter(id));
      const found = jobs.filter((job) => job !== undefined);
      return { found, notFound: ids.filter((_, i) => jobs[i] === undefined) };
    }
    const target = "target" in selector ? selector.target : "";
    return { found: await this.#failedJobs({ target, ...age }), notFound: [] as string[] };
  }

  /** The failed jobs, newest first; "" for every target. */
  async #failedJobs(filter: { target: string; since?: number; olderThan?: number }): Promise<Job<DeliveryJob>[]> {
    const now = Date.now();
    const jobs = (await this.queue.getFailed(0, -1)).filter((job): job is Job<DeliveryJob> => Boolean(job));
    return jobs
      .filter((job) => !filter.target || job.data.targetId === filter.target)
      .filter((job) => filter.since === undefined || (job.finishedOn ?? 0) >= now - filter.since)
      .filter((job) => filter.olderThan === undefined || (job.finishedOn ?? 0) <= now - filter.olderThan)
      .sort((a, b) => (b.finishedOn ?? 0) - (a.finishedOn ?? 0));
  }

  /** The job, if it is in the failed set: a delivery still waiting or retrying is no dead letter. */
  async #deadLetter(id: string): Promise<Job<DeliveryJob> | undefined> {
    const job = await this.queue.getJob(id);
    return job && (await job.isFailed()) ? job : undefined;
  }

  async #logOf(job: Job<DeliveryJob>): Promise<string[]> {
    return (await this.queue.getJobLogs(job.id ?? "")).logs;
  }

  #describe(job: Job<DeliveryJob>, log: string[]): DeadLetter {
    const { event, targetId, route, fallbackFor } = job.data;
    const lastError = { at: isoTime(job.finishedOn), reason: job.failedReason };
    // The tries of this round: those after the last replay.
    const lastReplay = log.findLastIndex((line) => replayLine.test(line));
    const firstTry = log.slice(lastReplay + 1).find((line) => tryLine.test(line));
    const [, at = "", reason = ""] = firstTry ? (tryLine.exec(firstTry) ?? []) : [];
    return {
      id: job.id ?? "",
      target: targetId,
      route,
      source: event.source,
      eventType: event.type,
      ...(event.ticketId !== undefined && { ticketId: event.ticketId }),
      queuedAt: isoTime(job.timestamp),
      failedAt: lastError.at,
      tries: job.attemptsMade + job.stalledCounter,
      // A delivery can give up without a try: its target was removed or disabled.
      firstError: firstTry ? { at, reason } : lastError,
      lastError,
      ...(fallbackFor && { fallbackFor }),
    };
  }
}

function isoTime(ms: number | undefined): string {
  return new Date(ms ?? 0).toISOString();
}

async function inBatches<T, R>(items: readonly T[], work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (let start = 0; start < items.length; start += batchSize) {
    results.push(...(await Promise.all(items.slice(start, start + batchSize).map(work))));
  }
  return results;
}
