import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import { everyKey } from "../support/history.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { waitForQuietQueues } from "../support/quiet-queues.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { statusChange } from "../support/ticket-events.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const maxWebhooks = 50;
const posted = 500;
/** Requests in flight at once while posting. */
const inFlight = 20;

/**
 * `history.maxWebhooks`: a relay that takes ten times as many webhooks as it keeps, each of a
 * ticket of its own and delivered to an HTTP endpoint, on a Redis of its own.
 */
describe("the history's bound on webhooks", () => {
  const redis = useRedis();
  let sink: HttpSink;
  let relay: TestRelay;
  let prefix: string;

  beforeAll(async () => {
    sink = await startHttpSink();
  });
  afterAll(async () => {
    await sink.close();
  });

  beforeEach(async () => {
    prefix = uniquePrefix();
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
history: { maxWebhooks: ${maxWebhooks} }
sources: { socialboards: { type: socialboards, verifyToken: v, urlToken: u } }
targets:
  crm: { type: http, url: "${sink.url}/hooks", timeout: 2s }
routes:
  - { name: everything-to-crm, to: [crm] }
`);
  });
  afterEach(async () => {
    await relay.close();
    sink.reset();
  });

  it(`keeps at most ${maxWebhooks} records of ${posted} webhooks, and no index entry without its record`, async () => {
    const keys = historyKeys(prefix);
    let next = 0;
    const postAll = async () => {
      while (next < posted) {
        next += 1;
        const answer = await fetch(`${relay.url}/webhooks/socialboards?token=u`, {
          method: "POST",
          body: JSON.stringify(statusChange(1_000_000 + next, "open", "pending")),
        });
        expect(answer.status).toBe(200);
      }
    };
    let most = 0;
    let posting = true;
    const watch = (async () => {
      while (posting) most = Math.max(most, await redis.client.zcard(keys.webhooks));
    })();
    await Promise.all(Array.from({ length: inFlight }, postAll));
    await sink.waitForRequests(posted, 30_000);
    await waitForQuietQueues(relay.config.redis);
    posting = false;
    await watch;

    // The trim runs when a routing batch sees more than maxWebhooks, so while webhooks pour in
    // the count goes past it: measured 110 to 114 records at once here (20 requests in flight).
    // Once quiet, no slack is left: 50 in every run, read as the queues went quiet; the wait
    // covers a trim a last batch started that is still under way.
    const count = await waitFor(
      async () => {
        const now = await redis.client.zcard(keys.webhooks);
        return now <= maxWebhooks && now;
      },
      { what: `at most ${maxWebhooks} records`, timeoutMs: 2000 },
    );
    // Trimmed while they came, not only at the end.
    expect(most).toBeLessThan(posted);
    expect(count).toBe(maxWebhooks);
    // The newest are kept: the 50 most recent tickets.
    const reader = new HistoryReader(redis.client, keys);
    const page = await reader.list({ limit: 100 });
    expect(page.webhooks).toHaveLength(maxWebhooks);
    expect(page.webhooks.every((story) => story.deliveries[0]?.state === "delivered")).toBe(true);

    // Each record's list, and every index (by source, type, target, outcome, ticket) holds only kept records.
    const history = await everyKey(redis.client, `${prefix}:history:*`);
    const recordIds = new Set(
      history
        .filter(({ key }) => key.startsWith(keys.webhook("")))
        .map(({ key }) => key.slice(keys.webhook("").length)),
    );
    expect(recordIds.size).toBe(maxWebhooks);
    const indexes = history.filter(({ type, key }) => type === "zset" && key !== keys.webhooks);
    expect(indexes.map(({ key }) => key)).toEqual(
      expect.arrayContaining([keys.by("source", "socialboards"), keys.by("outcome", "delivered")]),
    );
    const orphans = [];
    for (const { key } of [...indexes, { key: keys.webhooks }]) {
      for (const id of await redis.client.zrange(key, "0", "-1")) if (!recordIds.has(id)) orphans.push(`${key} ${id}`);
    }
    expect(orphans).toEqual([]);
    // One ticket per webhook: the trimmed ones' indexes are gone with their records.
    expect(history.filter(({ key }) => key.startsWith(`${prefix}:history:ticket:`))).toHaveLength(maxWebhooks);
  });
});
