import type { RedisClient } from "../redis/connector.js";
import type { HistoryKeys } from "./history-keys.js";
import type { RefusedRequest } from "./records.js";

/** One source's webhooks in the last hour, taken and refused, and its last refusal: the console's overview. */
export interface SourceStats {
  source: string;
  /** Webhooks of this source received in the last hour and recorded (its index in the history). */
  acceptedLastHour: number;
  /** Requests to this source refused in the last hour, of those its capped list keeps (`history.refused`). */
  refusedLastHour: number;
  lastRefused?: RefusedRequest;
}

const hourMs = 3_600_000;
/** Refusals read per round trip; a source refused more often in the hour takes more of them. */
const refusalsPerRead = 100;

/**
 * Counts each source's webhooks of the last hour in its index of the history (one ZCOUNT), and
 * its refusals of the last hour from the newest end of its list, read until one is older.
 */
export async function readSourceStats(
  redis: RedisClient,
  keys: HistoryKeys,
  sources: readonly string[],
  now = Date.now(),
): Promise<SourceStats[]> {
  const since = now - hourMs;
  const reads = redis.pipeline();
  for (const source of sources) {
    reads.zcount(keys.by("source", source), since, "+inf");
    reads.lrange(keys.refused(source), 0, refusalsPerRead - 1);
  }
  const answers = (await reads.exec()) ?? [];
  for (const [error] of answers) if (error) throw error;
  return Promise.all(
    sources.map(async (source, index) => {
      const accepted = Number(answers[index * 2]?.[1] ?? 0);
      const newest = (answers[index * 2 + 1]?.[1] ?? []) as string[];
      const lastRefused = newest.map(parseRefusal).find((request) => request !== undefined);
      return {
        source,
        acceptedLastHour: accepted,
        refusedLastHour: await countSince(redis, keys.refused(source), newest, since),
        ...(lastRefused && { lastRefused }),
      };
    }),
  );
}

/** The refusals at or after `since` in a list kept newest first, from its first page on. */
async function countSince(redis: RedisClient, key: string, firstPage: string[], since: number): Promise<number> {
  let page = firstPage;
  let count = 0;
  for (let offset = 0; ; offset += refusalsPerRead) {
    // An unreadable line counts as within: it cannot end the count.
    const within = page.findIndex((line) => Date.parse(parseRefusal(line)?.at ?? "") < since);
    if (within >= 0) return count + within;
    count += page.length;
    if (page.length < refusalsPerRead) return count;
    page = await redis.lrange(key, offset + refusalsPerRead, offset + 2 * refusalsPerRead - 1);
  }
}

function parseRefusal(line: string): RefusedRequest | undefined {
  try {
    const request = JSON.parse(line) as RefusedRequest;
    return typeof request?.at === "string" ? request : undefined;
  } catch {
    return undefined;
  }
}
