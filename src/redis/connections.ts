import type { ChainableCommander, Redis } from "ioredis";
import type { Logger } from "../log.js";
import { type ConnectionSettings, type RedisClient, RedisConnector } from "./connector.js";

export { type RedisClient, redisUrlWithoutPassword } from "./connector.js";

/**
 * The connection ingest writes through: no offline queue, so a webhook gets a fast 503 while
 * Redis is away (redis/connector.ts, role `ingest`). From a URL alone, or the `redis` section.
 */
export function createIngestConnection(url: string): Redis;
export function createIngestConnection(settings: ConnectionSettings): RedisClient;
export function createIngestConnection(settings: string | ConnectionSettings): RedisClient {
  return connectorFor(settings).connect("ingest");
}

/** A connection of the workers' own (sent marks, disabled targets), as patient as BullMQ's. */
export function createWorkerConnection(url: string): Redis;
export function createWorkerConnection(settings: ConnectionSettings): RedisClient;
export function createWorkerConnection(settings: string | ConnectionSettings): RedisClient {
  return connectorFor(settings).connect("worker");
}

/**
 * Options for BullMQ to open connections of its own to one Redis at `url` (a queue that owns
 * its connections, in tests). The relay itself hands BullMQ a connection from the connector,
 * which works for a Cluster and Sentinel too.
 */
export function workerConnectionOptions(url: string) {
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 5000) };
}

/**
 * How long a loop that works through Redis (the spool drainer, stream routing) pauses after
 * `failures` failures in a row: from 200 ms, doubling, at most 5 s, so an outage costs a few
 * lines and calls a second, not a busy loop.
 */
export function pauseAfterRedisFailures(failures: number): number {
  return Math.min(100 * 2 ** Math.max(1, failures), 5000);
}

/**
 * Says in the log, once, that this Redis is older than `[major, minor]`, which a part of the
 * relay needs, and what does not work (`missing`); the parts that do not need it go on working.
 */
export async function warnIfRedisOlderThan(
  [major, minor]: [number, number],
  missing: string,
  redis: RedisClient,
  logger: Pick<Logger, "error">,
): Promise<void> {
  const version = /redis_version:(\d+)\.(\d+)/.exec(await redis.info("server"));
  const [has = 0, hasMinor = 0] = version ? [Number(version[1]), Number(version[2])] : [];
  if (has < major || (has === major && hasMinor < minor))
    logger.error(
      { redisVersion: `${has}.${hasMinor}` },
      `Redis ${has}.${hasMinor} is older than ${major}.${minor}: ${missing}; upgrade Redis`,
    );
}

function connectorFor(settings: string | ConnectionSettings): RedisConnector {
  return new RedisConnector(typeof settings === "string" ? { url: settings } : settings);
}

/**
 * Whether an error is Redis being away or refusing (a closed connection, no answer in time,
 * a ReplyError such as OOM or READONLY), as opposed to a bug: the first is "try again later"
 * (503, exit 1 with a line saying so), the second is not to be dressed up as an outage.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error instanceof NoAnswerInTime) return true;
  if (error.name === "ReplyError" || error.name === "MaxRetriesPerRequestError") return true;
  return /connection is closed|stream isn't writeable|command timed out|ECONNRESET|ECONNREFUSED|EPIPE|isn't ready|CLUSTERDOWN|None of startup nodes/i.test(
    error.message,
  );
}

/** Redis did not answer within the time its caller allowed; what it was asked may still land. */
export class NoAnswerInTime extends Error {
  override name = "NoAnswerInTime";
}

/**
 * A call's answer, or NoAnswerInTime after `ms`. ioredis holds a call while it reconnects;
 * ingest's answer, a scrape, readiness and the spool drainer must not wait for it that long.
 */
export function answerWithin<T>(call: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new NoAnswerInTime(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([call, late]).finally(() => clearTimeout(timer));
}

/** Is Redis answering now? For readiness: false at once while disconnected, or after `timeoutMs`. */
export async function redisAnswers(redis: RedisClient, timeoutMs = 2000): Promise<boolean> {
  if (redis.status !== "ready") return false;
  try {
    return (await answerWithin(redis.ping(), timeoutMs)) === "PONG";
  } catch {
    return false;
  }
}

/**
 * Runs a pipeline and resolves once Redis has answered all of it; rejects with the first
 * command's error, since ioredis reports those in the results instead of rejecting.
 */
export async function execAll(pipeline: ChainableCommander): Promise<void> {
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
}
