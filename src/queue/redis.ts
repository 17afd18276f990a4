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
