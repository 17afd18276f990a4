import { describe, expect, it } from "vitest";
import type { RetryPolicy } from "../src/config/schema.js";
import { nextRetryDelay } from "../src/queue/retry.js";
import { RetryLater } from "../src/targets/target.js";

const exponential: RetryPolicy = { attempts: 8, backoff: "exponential", delay: 1000, maxDelay: 10_000 };

describe("retry delays", () => {
  it("doubles from the first delay and stops at maxDelay", () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => nextRetryDelay(exponential, n))).toEqual([
      1000, 2000, 4000, 8000, 10_000, 10_000,
    ]);
  });

  it("keeps a fixed delay fixed", () => {
    expect([1, 5].map((n) => nextRetryDelay({ ...exponential, backoff: "fixed" }, n))).toEqual([1000, 1000]);
  });

  it("waits at least as long as the far side asked, within maxDelay", () => {
    expect(nextRetryDelay(exponential, 1, new RetryLater("rate limited", 5000))).toBe(5000);
    expect(nextRetryDelay(exponential, 1, new RetryLater("rate limited", 60_000))).toBe(10_000);
    expect(nextRetryDelay(exponential, 4, new RetryLater("rate limited", 10))).toBe(8000);
  });
});
