import { describe, expect, it } from "vitest";
import { historyKeys } from "../../src/history/history-keys.js";
import { HistoryReader } from "../../src/history/history-reader.js";
import { uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";

describe("reading the history a page at a time", () => {
  const redis = useRedis();

  it("walks every webhook once, newest first, even when hundreds share one millisecond", async () => {
    const keys = historyKeys(uniquePrefix());
    const pipeline = redis.client.pipeline();
    const ids: string[] = [];
    // 300 webhooks in three milliseconds, 250 of them in the middle one.
    for (let n = 0; n < 300; n++) {
      const id = `r${String(n).padStart(4, "0")}`;
      const ms = n < 25 ? 1000 : n < 275 ? 2000 : 3000;
      ids.push(id);
      const record = { id, source: "s", receivedAt: new Date(ms).toISOString(), events: [], deliveries: [] };
      pipeline.rpush(keys.webhook(id), JSON.stringify(record));
      pipeline.zadd(keys.webhooks, ms, id);
    }
    await pipeline.exec();
    const reader = new HistoryReader(redis.client, keys);

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await reader.list({ limit: 7, cursor });
      seen.push(...page.webhooks.map((story) => story.webhook.id));
      cursor = page.next;
    } while (cursor);

    // Newest first: by time, and within one ms by id, as Redis orders equal scores.
    expect(seen).toEqual([...ids].reverse());
  });
});
