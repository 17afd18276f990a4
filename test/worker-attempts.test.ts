import { UnrecoverableError } from "bullmq";
import { describe, expect, it } from "vitest";
import { hasTryLeft, refuseTryBeyondAttempts, triesIncludingThis } from "../src/queue/worker-settings.js";

const job = (attemptsMade: number, stalledCounter: number, attempts: number) => ({
  attemptsMade,
  stalledCounter,
  opts: { attempts },
});

describe("a job's tries", () => {
  it("count failures and worker crashes alike", () => {
    expect(triesIncludingThis(job(0, 0, 3))).toBe(1);
    expect(triesIncludingThis(job(1, 1, 3))).toBe(3);
  });

  it("allow the last try after two crashes of three attempts", () => {
    expect(() => refuseTryBeyondAttempts(job(0, 2, 3))).not.toThrow();
  });

  it("refuse a try beyond the attempts, saying crashes used them up", () => {
    expect(() => refuseTryBeyondAttempts(job(0, 3, 3))).toThrow(UnrecoverableError);
    expect(() => refuseTryBeyondAttempts(job(0, 3, 3))).toThrow(/3 ended with the worker stopping/);
  });

  it("leave no retry after a failure when crashes used up the rest", () => {
    // BullMQ has just counted this failure in attemptsMade when it asks for a backoff.
    expect(hasTryLeft(job(1, 0, 3))).toBe(true);
    expect(hasTryLeft(job(1, 1, 3))).toBe(false);
  });
});
