import type { HistoryConfig } from "../config/history-schema.js";
import type { Logger } from "../log.js";
import type { OutcomeHistory } from "../queue/delivery/delivery-pipeline.js";
import type { RoutingHistory } from "../queue/inbound/webhook-routing.js";
import type { DuplicateCount } from "../queue/inbound/webhook-stream.js";
import type { RedisClient } from "../redis/connector.js";
import { DeliveryHistory } from "./delivery-history.js";
import { type HistoryKeys, historyKeys } from "./history-keys.js";
import { MemoryGuard } from "./memory-guard.js";
import { HistoryRecorder, maxStepsPerWebhook } from "./recorder.js";
import { RoutingRecords } from "./routing-history.js";

/** How often Redis's memory is looked at and the history's size read for the metrics. */
const lookEveryMs = 5000;
/** The history is trimmed by age once every this many looks (a minute), besides by count as it grows. */
const trimEveryLooks = 12;

/** What the metrics read of the history (`ticket_relay_history_*`). */
export interface HistoryStats {
  records: number;
  /** Estimated from a sample of the newest records: Redis's MEMORY USAGE, times the count. */
  bytes: number;
  paused: boolean;
  /** Records and steps left out while paused, since start. */
  skipped: number;
}

/**
 * The history of one relay process (history/): a recorder on each connection that writes it
 * (routing's, delivery's, ingest's), one memory guard for all of them, and the timer that trims
 * it by age and reads its size. Off (`history.enabled: false`), none of this exists.
 */
export class History {
  readonly keys: HistoryKeys;
  readonly #guard: MemoryGuard;
  readonly #recorders: HistoryRecorder[] = [];
  /** What every recorder asks before a write. */
  readonly #state: { readonly paused: boolean };
  readonly #stats = { records: 0, bytes: 0 };
  #timer: NodeJS.Timeout | undefined;
  #trims = false;

  constructor(
    readonly settings: HistoryConfig,
    prefix: string,
    /** A connection of its own for looking at Redis (the metrics' one): never a worker's. */
    private readonly redis: RedisClient,
    private readonly logger: Logger,
  ) {
    this.keys = historyKeys(prefix);
    const guard = new MemoryGuard(redis, logger);
    this.#guard = guard;
    this.#state = {
      get paused() {
        return guard.paused;
      },
    };
  }

  /** A recorder writing through `redis`: routing's writes must go on the connection that queues. */
  recorderOn(redis: RedisClient): HistoryRecorder {
    const recorder = new HistoryRecorder(redis, this.keys, this.settings, this.logger, this.#state);
    this.#recorders.push(recorder);
    return recorder;
  }

  /** Routing's records, written through routing's connection; this process then trims the history. */
  routing(redis: RedisClient): RoutingHistory {
    this.#trims = true;
    return new RoutingRecords(this.recorderOn(redis));
  }

  /** The delivery pipeline's steps, written through the delivery worker's connection. */
  deliveries(redis: RedisClient): OutcomeHistory {
    return new DeliveryHistory(this.recorderOn(redis));
  }

  /** Where ingest's webhook stream counts a duplicate on its original (queue/inbound/webhook-stream.ts). */
  duplicateCount(): DuplicateCount {
    return {
      records: this.keys.webhook(""),
      index: this.keys.by("outcome", "duplicate"),
      indexes: this.keys.indexes,
      maxElements: maxStepsPerWebhook + 1,
    };
  }

  start(): void {
    let looks = 0;
    const look = async () => {
      await this.#guard.look();
      await this.#readStats().catch(() => undefined);
      if (this.#trims && looks % trimEveryLooks === 0) {
        await this.#recorders[0]?.retention.trimSoon().catch(() => undefined);
      }
      looks += 1;
      if (this.#timer) this.#timer = setTimeout(() => void look(), lookEveryMs).unref();
    };
    this.#timer = setTimeout(() => void look(), 0).unref();
  }

  stop(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  stats(): HistoryStats {
    const skipped = this.#recorders.reduce((sum, recorder) => sum + recorder.skipped, 0);
    return { ...this.#stats, paused: this.#guard.paused, skipped };
  }

  /** Looks at Redis's memory now, rather than at the next look (tests). */
  lookAtMemory(): Promise<void> {
    return this.#guard.look();
  }

  async #readStats(): Promise<void> {
    const [count, sample] = await Promise.all([
      this.redis.zcard(this.keys.webhooks),
      this.redis.zrevrange(this.keys.webhooks, 0, 9),
    ]);
    let sampled = 0;
    for (const id of sample) {
      const [record, body] = await Promise.all([
        this.redis.call("MEMORY", "USAGE", this.keys.webhook(id)) as Promise<number | null>,
        this.redis.call("MEMORY", "USAGE", this.keys.body(id)) as Promise<number | null>,
      ]);
      sampled += (record ?? 0) + (body ?? 0);
    }
    this.#stats.records = count;
    // Each record is also in about six indexes, at about 145 bytes an entry (docs/operations.md).
    this.#stats.bytes = sample.length > 0 ? Math.round((sampled / sample.length + indexBytesPerRecord) * count) : 0;
  }
}

/** A record's share of the indexes it is in, measured by bench/history.ts (docs/operations.md). */
const indexBytesPerRecord = 870;
