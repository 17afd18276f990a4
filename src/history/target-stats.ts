import type { RedisClient } from "../redis/connector.js";
import type { HistoryKeys } from "./history-keys.js";
import type { CountedStep } from "./recorder.js";

export type StepCounts = Record<CountedStep, number>;

/** One target's deliveries in the last hour and day, and its last failure: the console's overview. */
export interface TargetStats {
  target: string;
  lastHour: StepCounts;
  lastDay: StepCounts;
  lastError?: { at: string; failure: string };
}

const hourMs = 3_600_000;
const fiveMinutesMs = 300_000;

/**
 * Reads what the history counted per target (history/recorder.ts): "the last hour" from the
 * twelve five-minute counts before now and the one under way, "the last day" from the 24 hours
 * before this one and this one. Each reads up to five minutes (an hour) more than it says.
 */
export async function readTargetStats(
  redis: RedisClient,
  keys: HistoryKeys,
  targets: readonly string[],
  now = Date.now(),
): Promise<TargetStats[]> {
  const reads = redis.pipeline();
  for (const target of targets) {
    for (let five = 0; five < 13; five++) reads.hgetall(keys.targetFiveMinutes(target, now - five * fiveMinutesMs));
    for (let hour = 0; hour < 25; hour++) reads.hgetall(keys.targetHour(target, now - hour * hourMs));
    reads.get(keys.targetLastError(target));
  }
  const answers = (await reads.exec()) ?? [];
  for (const [error] of answers) if (error) throw error;
  const perTarget = 13 + 25 + 1;
  return targets.map((target, index) => {
    const mine = answers.slice(index * perTarget, (index + 1) * perTarget).map(([, answer]) => answer);
    const lastError = parseLastError(mine[38]);
    return {
      target,
      lastHour: sum(mine.slice(0, 13) as Record<string, string>[]),
      lastDay: sum(mine.slice(13, 38) as Record<string, string>[]),
      ...(lastError && { lastError }),
    };
  });
}

function sum(hours: readonly Record<string, string>[]): StepCounts {
  const counts: StepCounts = { delivered: 0, failed: 0, dead: 0, held: 0, dropped: 0 };
  for (const hour of hours) {
    for (const field of Object.keys(counts) as CountedStep[]) counts[field] += Number(hour?.[field] ?? 0);
  }
  return counts;
}

function parseLastError(value: unknown): TargetStats["lastError"] {
  if (typeof value !== "string") return undefined;
  try {
    const { at, failure } = JSON.parse(value) as { at: number; failure: string };
    return { at: new Date(at).toISOString(), failure };
  } catch {
    return undefined;
  }
}
