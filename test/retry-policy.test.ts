import { describe, expect, it } from "vitest";
import { parseConfig } from "../src/config/load.js";
import type { RetryPolicy } from "../src/config/schema.js";
import { inboundRetry, nextInboundRetryDelay, nextRetryDelay } from "../src/queue/retry.js";
import { RetryLater } from "../src/targets/target.js";

const exponential: RetryPolicy = { attempts: 8, backoff: "exponential", delay: 1000, maxDelay: 10_000, schedule: [] };

/** The random source at its two ends: the shortest and the longest wait the jitter allows. */
const lowest = () => 0;
const highest = () => 1;

/** A seeded generator (mulberry32), so the spread test sees the same 300 draws on every run. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

describe("retry delays", () => {
  it("follow the default schedule, about a day and a half from the first try to the eighth", () => {
    const policy = configSchemaDefaults();
    const waits = [1, 2, 3, 4, 5, 6, 7].map((n) => nextRetryDelay(policy, n, undefined, () => 0.5));
    expect(waits).toEqual([5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
    const lastTryHours = waits.reduce((sum, wait) => sum + wait, 0) / 3_600_000;
    expect(lastTryHours).toBeGreaterThan(24);
    expect(lastTryHours).toBeLessThan(36);
  });

  it("repeats a schedule's last wait past its end", () => {
    const policy: RetryPolicy = { ...exponential, backoff: "schedule", schedule: [100, 2000], maxDelay: 60_000 };
    expect([1, 2, 3, 4].map((n) => nextRetryDelay(policy, n, undefined, () => 0.5))).toEqual([100, 2000, 2000, 2000]);
  });

  it("doubles from the first delay, give or take 20%, and never waits longer than maxDelay", () => {
    const attempts = [1, 2, 3, 4, 5, 6];
    expect(attempts.map((n) => nextRetryDelay(exponential, n, undefined, lowest))).toEqual([
      800, 1600, 3200, 6400, 8000, 8000,
    ]);
    expect(attempts.map((n) => nextRetryDelay(exponential, n, undefined, highest))).toEqual([
      1200, 2400, 4800, 9600, 10_000, 10_000,
    ]);
  });

  it("keeps a fixed delay fixed, give or take 20%", () => {
    const fixed: RetryPolicy = { ...exponential, backoff: "fixed" };
    expect([1, 5].map((n) => nextRetryDelay(fixed, n, undefined, lowest))).toEqual([800, 800]);
    expect([1, 5].map((n) => nextRetryDelay(fixed, n, undefined, highest))).toEqual([1200, 1200]);
  });

  it("spreads the retries of 300 deliveries that failed at the same moment", () => {
    const random = seeded(42);
    const delays = Array.from({ length: 300 }, () => nextRetryDelay(exponential, 3, undefined, random));
    for (const delay of delays) {
      expect(delay).toBeGreaterThanOrEqual(3200);
      expect(delay).toBeLessThanOrEqual(4800);
    }
    expect(new Set(delays).size).toBeGreaterThan(200);
    // Spread over the whole window, not bunched at one end.
    expect(Math.min(...delays)).toBeLessThan(3400);
    expect(Math.max(...delays)).toBeGreaterThan(4600);
  });

  it("spreads the retries of deliveries stuck at maxDelay below it", () => {
    const random = seeded(7);
    const delays = Array.from({ length: 300 }, () => nextRetryDelay(exponential, 10, undefined, random));
    expect(Math.max(...delays)).toBeLessThanOrEqual(10_000);
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(8000);
    expect(new Set(delays).size).toBeGreaterThan(200);
  });

  it("never retries sooner than the far side asked, and spreads those retries after it", () => {
    const random = seeded(3);
    const askedFor = new RetryLater("rate limited", 5000);
    const delays = Array.from({ length: 300 }, () => nextRetryDelay(exponential, 1, askedFor, random));
    expect(Math.min(...delays)).toBeGreaterThanOrEqual(5000);
    expect(Math.max(...delays)).toBeLessThanOrEqual(6000);
    expect(new Set(delays).size).toBeGreaterThan(200);
    // Asked for less than the backoff would wait anyway: the backoff's window, cut at the ask.
    expect(nextRetryDelay(exponential, 4, new RetryLater("rate limited", 10), lowest)).toBe(6400);
    expect(nextRetryDelay(exponential, 4, new RetryLater("rate limited", 7000), lowest)).toBe(7000);
  });

  it("waits no longer than maxDelay, even when the far side asked for more", () => {
    const asked = new RetryLater("rate limited", 60_000);
    expect(nextRetryDelay(exponential, 1, asked, lowest)).toBe(10_000);
    expect(nextRetryDelay(exponential, 1, asked, highest)).toBe(10_000);
  });

  it("try a webhook's routing in the inbound queue 5 times, 1, 2, 4 and 8 s apart, without jitter", () => {
    expect(inboundRetry.attempts).toBe(5);
    const waits = Array.from({ length: inboundRetry.attempts - 1 }, (_, index) => nextInboundRetryDelay(index + 1));
    expect(waits).toEqual([1000, 2000, 4000, 8000]);
    // Asked before a failure is counted, the first wait too, as the inline backoff it replaces.
    expect(nextInboundRetryDelay(0)).toBe(1000);
  });

  it("uses Math.random when no random source is given", () => {
    const delays = Array.from({ length: 50 }, () => nextRetryDelay(exponential, 1));
    expect(new Set(delays).size).toBeGreaterThan(1);
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(800);
  });
});

function configSchemaDefaults(): RetryPolicy {
  return parseConfig("sources: { sb: { type: socialboards, verifyToken: v, urlToken: none } }", "relay.yaml", {}).retry;
}
