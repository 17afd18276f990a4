import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { routingGroup } from "../../src/queue/inbound/webhook-stream.js";
import { deliveryQueueName, inboundQueueName } from "../../src/queue/jobs.js";
import { relayKeys } from "../../src/queue/queues.js";
import { waitFor } from "./wait.js";

/** Job states in which a job is still to be run: a worker will take it now or later. */
const unfinished = ["wait", "active", "delayed", "prioritized", "waiting-children"] as const;

/**
 * Resolves once the relay on this Redis and prefix (a TestRelay's `config.redis`) has nothing left to do: no webhook in its stream
 * (none stored and unread, none read and unfinished) and no delivery or inbound job waiting,
 * running or delayed (a retry, a mute's or a pace's hold, a parked delivery, a digest window
 * still to close). Then no worker will send anything more, so a test can assert "exactly N
 * arrived" without sleeping a guessed time. A killed worker's jobs count as running until
 * another worker takes them over (lockDuration + stalledInterval), so this waits for those too.
 *
 * Quiet must hold on two looks in a row: a worker hands a webhook on between two keys (the
 * stream entry goes once its deliveries are queued), and one look could fall between them.
 */
export async function waitForQuietQueues(
  { url, prefix }: { url: string; prefix: string },
  options: { timeoutMs?: number } = {},
): Promise<void> {
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  const queues = [deliveryQueueName, inboundQueueName].map((name) => new Queue(name, { connection: redis, prefix }));
  const stream = relayKeys(prefix).webhooks;
  let quietLooks = 0;
  try {
    await waitFor(
      async () => {
        const [length, pending, ...counts] = await Promise.all([
          redis.xlen(stream),
          // No group yet: no worker has read the stream, nothing pending.
          (redis.xpending(stream, routingGroup) as Promise<unknown[]>).catch(() => [0]),
          ...queues.map((queue) => queue.getJobCounts(...unfinished)),
        ]);
        const busy =
          Number(length) + Number(pending[0] ?? 0) + counts.flatMap(Object.values).reduce((a, b) => a + b, 0);
        quietLooks = busy === 0 ? quietLooks + 1 : 0;
        return quietLooks >= 2;
      },
      { what: `the queues of ${prefix} to go quiet`, timeoutMs: options.timeoutMs ?? 20_000 },
    );
  } finally {
    await Promise.all(queues.map((queue) => queue.close()));
    redis.disconnect();
  }
}
