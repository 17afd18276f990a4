import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import type { RedisClient } from "../../redis/connections.js";
import type { RelayKeys } from "../queues.js";
import { decodeEntry, fieldMap, routingGroup, type StoredWebhook, type StreamEntry } from "./webhook-stream.js";

/** How many unreadable entries are kept aside, about. */
const keepUnreadable = 1000;

/**
 * One worker process in the webhook stream's consumer group (queue/inbound/webhook-stream.ts): reads
 * what no worker has read, takes over what a stopped one never finished, keeps its claim on what
 * it holds, and marks webhooks routed. queue/inbound/stream-routing.ts drives it.
 */
export class WebhookStreamConsumer {
  /** This process's name in the consumer group, unique per process. */
  readonly consumer = `${hostname()}:${process.pid}:${randomBytes(3).toString("hex")}`;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RelayKeys,
  ) {}

  /** Creates the consumer group if it is not there (a new Redis, or one that lost its data). */
  async ensureGroup(): Promise<void> {
    try {
      // From the start of the stream: webhooks stored before any worker ever ran are read too.
      await this.redis.xgroup("CREATE", this.keys.webhooks, routingGroup, "0", "MKSTREAM");
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith("BUSYGROUP")) throw error;
    }
  }

  /**
   * Up to `count` webhooks no worker has read yet, waiting at most `blockMs` for the first, on
   * `blocking`: a connection of its own, since a blocked read holds its connection.
   */
  async read(blocking: RedisClient, count: number, blockMs: number): Promise<StoredWebhook[]> {
    const answer = (await blocking.xreadgroup(
      "GROUP",
      routingGroup,
      this.consumer,
      "COUNT",
      count,
      "BLOCK",
      blockMs,
      "STREAMS",
      this.keys.webhooks,
      ">",
    )) as [string, StreamEntry[]][] | null;
    return (answer?.[0]?.[1] ?? []).map(decodeEntry);
  }

  /**
   * Takes over webhooks another worker (or this one) read at least `minIdleMs` ago and never
   * finished: it stopped mid-way, or Redis failed under it. From `cursor` ("0-0" at first);
   * `next` is "0-0" once the whole group was looked through.
   */
  async claimStale(
    minIdleMs: number,
    count: number,
    cursor: string,
  ): Promise<{ stale: StoredWebhook[]; next: string }> {
    const [next, entries] = (await this.redis.xautoclaim(
      this.keys.webhooks,
      routingGroup,
      this.consumer,
      minIdleMs,
      cursor,
      "COUNT",
      count,
    )) as [string, (StreamEntry | null)[]];
    return { stale: entries.filter((entry): entry is StreamEntry => entry !== null).map(decodeEntry), next };
  }

  /**
   * Tells the group this worker still has these in hand: a batch that takes longer than the
   * stale time (Redis stalling under it) is not taken over while it is still being routed.
   */
  async keepClaimed(streamIds: string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await this.redis.call("XCLAIM", this.keys.webhooks, routingGroup, this.consumer, 0, ...streamIds, "JUSTID");
  }

  /** Marks webhooks routed and deletes them, at once: the stream holds only what is not routed yet. */
  async markRouted(streamIds: string[]): Promise<void> {
    if (streamIds.length === 0) return;
    await this.redis
      .multi()
      .xack(this.keys.webhooks, routingGroup, ...streamIds)
      .xdel(this.keys.webhooks, ...streamIds)
      .exec();
  }

  /** Moves entries that are not webhooks to a capped stream of their own, to be looked into. */
  async setAside(unreadable: StoredWebhook[]): Promise<void> {
    if (unreadable.length === 0) return;
    const ids = unreadable.map(({ streamId }) => streamId);
    const transaction = this.redis.multi();
    for (const { streamId, entry } of unreadable) {
      transaction.xadd(
        this.keys.unreadableWebhooks,
        "MAXLEN",
        "~",
        keepUnreadable,
        "*",
        "streamId",
        streamId,
        "entry",
        entry,
      );
    }
    await transaction
      .xack(this.keys.webhooks, routingGroup, ...ids)
      .xdel(this.keys.webhooks, ...ids)
      .exec();
  }

  /**
   * Forgets the group's consumers that hold nothing and were idle for `idleMs`: each process
   * joins under a new name, and the names of stopped ones would otherwise stay for ever.
   */
  async forgetIdleConsumers(idleMs: number): Promise<void> {
    const consumers = (await this.redis.xinfo("CONSUMERS", this.keys.webhooks, routingGroup)) as unknown[][];
    for (const fields of consumers) {
      const info = fieldMap(fields);
      if (info.name !== this.consumer && Number(info.pending) === 0 && Number(info.idle) >= idleMs)
        await this.redis.xgroup("DELCONSUMER", this.keys.webhooks, routingGroup, String(info.name));
    }
  }
}
