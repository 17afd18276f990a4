import { type Logger, throttledWarning } from "../log.js";
import type { WebhookStream, WebhookToStore } from "../queue/inbound/webhook-stream.js";
import { answerWithin, pauseAfterRedisFailures } from "../redis/connections.js";
import type { DrainableRecord, Spool } from "./spool.js";
import { decodeSpooledWebhook } from "./spooled-webhook.js";

/** What the spool needs of ingest's Redis connection (one Redis or a Cluster): is it up, and when it comes back. */
export interface RedisLink {
  readonly status: string;
  on(event: "ready", listener: () => void): unknown;
  off(event: "ready", listener: () => void): unknown;
}

export interface DrainerOptions {
  /** Records stored in Redis together, then committed. */
  batchSize?: number;
  /** How long one batch may take before it is tried again. */
  addTimeoutMs?: number;
}

/**
 * Moves spooled webhooks into the webhook stream, oldest first, as soon as Redis answers: a
 * batch at a time, each committed (the spool's position moves past it) only after Redis took
 * the whole batch. The duplicate key of each webhook is applied now, as ingest would have. A
 * batch cut short by a failure is stored again from its start: a webhook with a duplicate key
 * is then a duplicate, and one without is routed a second time into the same delivery ids
 * (they come from its receipt id), which BullMQ adds once.
 */
export class SpoolDrainer {
  #closed = false;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  readonly #unsubscribe: () => void;
  readonly #onReady = () => this.#wake?.();
  readonly #warn: (error: Error) => void;
  readonly #warnDisk: (error: Error) => void;
  readonly #batchSize: number;
  readonly #addTimeoutMs: number;

  constructor(
    private readonly spool: Spool,
    private readonly stream: Pick<WebhookStream, "storeAll">,
    private readonly redis: RedisLink,
    private readonly logger: Logger,
    options: DrainerOptions = {},
  ) {
    this.#batchSize = options.batchSize ?? 500;
    this.#addTimeoutMs = options.addTimeoutMs ?? 10_000;
    this.#warn = throttledWarning(logger, "spool: Redis did not take spooled webhooks; trying again", 10_000);
    this.#warnDisk = throttledWarning(
      logger,
      "spool: cannot record on disk how far the spool is drained; the batch is stored again (Redis recognises it by receipt id) and the spool's disk tried again",
      10_000,
    );
    this.#unsubscribe = spool.onAppended(() => this.#wake?.());
    redis.on("ready", this.#onReady);
  }

  start(): void {
    this.#running ??= this.#run();
  }

  /** Finishes the batch under way; what is left stays in the spool for the next start. */
  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    this.#unsubscribe();
    this.redis.off("ready", this.#onReady);
    await this.#running;
  }

  async #run(): Promise<void> {
    let failures = 0;
    let draining = false;
    while (!this.#closed) {
      if (this.redis.status !== "ready") {
        await this.#pause(1000);
        continue;
      }
      let records: DrainableRecord[];
      try {
        records = await this.spool.nextRecords();
      } catch (error) {
        this.logger.error({ err: error }, "spool: cannot read the spool; trying again");
        await this.#pause(1000);
        continue;
      }
      if (records.length === 0) {
        if (draining) this.logger.info("spool drained: every spooled webhook is in Redis");
        draining = false;
        await this.#pause(1000);
        continue;
      }
      if (!draining) this.logger.info(this.spool.depth, "spool: moving spooled webhooks into Redis");
      draining = true;
      for (let start = 0; start < records.length && !this.#closed; start += this.#batchSize) {
        const batch = records.slice(start, start + this.#batchSize);
        try {
          await answerWithin(this.stream.storeAll(this.#webhooksOf(batch)), this.#addTimeoutMs);
        } catch (error) {
          this.#warn(error as Error);
          failures += 1;
          await this.#pause(pauseAfterRedisFailures(failures));
          break;
        }
        failures = 0;
        try {
          await this.spool.drained(batch);
        } catch (error) {
          // Redis holds the batch; only the disk failed. Said as such, not as Redis being away.
          this.#warnDisk(error as Error);
          await this.#pause(1000);
          break;
        }
      }
    }
  }

  #webhooksOf(batch: DrainableRecord[]): WebhookToStore[] {
    const webhooks: WebhookToStore[] = [];
    for (const record of batch) {
      try {
        webhooks.push(decodeSpooledWebhook(record.body));
      } catch (error) {
        // It passed its checksum, so the spool wrote it like this: a bug, not damage.
        this.logger.error(
          { err: error, segment: record.segment, offset: record.offset },
          "spool: a record is not a webhook; left out",
        );
      }
    }
    return webhooks;
  }

  /** Waits `ms`, or less when records are appended, Redis comes back or the drainer closes. */
  #pause(ms: number): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        resolve();
      }
      this.#wake = () => {
        this.#wake = undefined;
        done();
      };
    });
  }
}
