import { describe, expect, it } from "vitest";
import { SameTickBatch } from "../src/queue/same-tick-batch.js";

describe("calls gathered in one tick of the event loop", () => {
  it("runs the calls of one tick as one batch and answers each caller with its own result", async () => {
    const batches: number[][] = [];
    const doubled = new SameTickBatch<number, number>(async (items) => {
      batches.push(items);
      return items.map((item) => item * 2);
    });
    expect(await Promise.all([doubled.call(1), doubled.call(2), doubled.call(3)])).toEqual([2, 4, 6]);
    expect(await doubled.call(4)).toBe(8);
    expect(batches).toEqual([[1, 2, 3], [4]]);
  });

  it("starts a new batch once one holds maxWeight", async () => {
    const sizes: number[] = [];
    const echo = new SameTickBatch<number, number>(
      async (items) => {
        sizes.push(items.length);
        return items;
      },
      { maxWeight: 2 },
    );
    expect(await Promise.all([1, 2, 3, 4, 5].map((item) => echo.call(item)))).toEqual([1, 2, 3, 4, 5]);
    expect(sizes).toEqual([2, 2, 1]);
  });

  it("rejects every caller of a batch that failed, and serves the next batch", async () => {
    let fail = true;
    const flaky = new SameTickBatch<string, string>(async (items) => {
      if (fail) throw new Error("Redis said no");
      return items;
    });
    const failed = await Promise.allSettled([flaky.call("a"), flaky.call("b")]);
    expect(failed.map((result) => result.status)).toEqual(["rejected", "rejected"]);
    fail = false;
    expect(await flaky.call("c")).toBe("c");
  });
});
