import { Redis } from "ioredis";

/**
 * The connection ingest writes through. With the offline queue off, a command issued while
 * Redis is away fails at once instead of waiting in memory for a reconnect: the webhook gets
 * a fast 503 (and the platform retries) rather than a 200 for an event that is not yet stored,
 * or a hang past the platform's timeout.
 */
export function createIngestConnection(url: string): Redis {
  return new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 2000,
    // Keep trying to come back, never more than 2 s apart, for as long as the process lives.
    retryStrategy: (times) => Math.min(100 * times, 2000),
  });
}

/**
 * Options for BullMQ workers, which create their own connections: blocking commands need
 * `maxRetriesPerRequest: null`, so a worker waits through an outage instead of crashing.
 */
export function workerConnectionOptions(url: string) {
  return { url, maxRetriesPerRequest: null, retryStrategy: (times: number) => Math.min(200 * times, 5000) };
}

/**
 * Whether an error is Redis being away or refusing (a closed connection, no answer in time,
 * a ReplyError such as OOM or READONLY), as opposed to a bug: the first is "try again later"
 * (503, exit 1 with a line saying so), the second is not to be dressed up as an outage.
 */
export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === "ReplyError" || error.name === "MaxRetriesPerRequestError") return true;
  return /connection is closed|stream isn't writeable|command timed out|ECONNRESET|ECONNREFUSED|EPIPE/i.test(
    error.message,
  );
}

/** A connection of the workers' own (sent marks, disabled targets), as patient as BullMQ's. */
export function createWorkerConnection(url: string): Redis {
  const { retryStrategy } = workerConnectionOptions(url);
  return new Redis(url, { maxRetriesPerRequest: null, retryStrategy });
}

/** Is Redis answering now? For readiness: false at once while disconnected, or after `timeoutMs`. */
export async function redisAnswers(redis: Redis, timeoutMs = 2000): Promise<boolean> {
  if (redis.status !== "ready") return false;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve("no answer"), timeoutMs);
  });
  try {
    return (await Promise.race([redis.ping(), late])) === "PONG";
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}

/** A Redis URL fit for a log line or a message: the password left out. */
export function redisUrlWithoutPassword(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*):[^@/]*@/, "$1:…@");
}
