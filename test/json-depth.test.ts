import { describe, expect, it } from "vitest";
import { maxJsonDepth, nestsDeeperThan } from "../src/http/json-depth.js";

const deeper = (json: string, limit: number) => nestsDeeperThan(Buffer.from(json, "utf8"), limit);

describe("the JSON nesting-depth scanner", () => {
  it.each([
    ["a scalar", 0, "42"],
    ["an empty object", 1, "{}"],
    ["an array in an object", 2, '{"a":[1,2]}'],
    ["siblings, which do not add up", 2, '[[1],[2],{"a":1}]'],
    ["three levels", 3, '{"a":{"b":[]}}'],
  ])("measures %s as %i deep", (_, depth, json) => {
    expect(deeper(json, depth)).toBe(false);
    if (depth > 0) expect(deeper(json, depth - 1)).toBe(true);
  });

  it("does not count brackets inside strings", () => {
    expect(deeper('{"key [[[{{{":"[[[[{{{{"}', 1)).toBe(false);
  });

  it("does not end a string at an escaped quote", () => {
    // Were \" the end of the string, the brackets after it would count.
    expect(deeper('["a \\" [[[[ {{{{ "]', 1)).toBe(false);
  });

  it("ends a string after an escaped backslash", () => {
    // "\\" is a whole string holding one backslash; the brackets after it are structure.
    expect(deeper('["\\\\",[[[]]]]', 3)).toBe(true);
    expect(deeper('["\\\\",[[[]]]]', 4)).toBe(false);
  });

  it("reads multi-byte characters without mistaking their bytes for brackets or quotes", () => {
    expect(deeper('{"ключ":"значение 😀 [[[", "x":["é"]}', 2)).toBe(false);
  });

  it("stops at the first level too deep, without reading the rest", () => {
    // Not JSON at all after the fourth bracket: the scanner has answered before it matters.
    expect(deeper(`[[[[${"\u0000".repeat(10)}`, 3)).toBe(true);
  });

  it("takes a wide body with far more brackets in all than the limit, when none nests past it", () => {
    const wide = `[${'{"tags":["a"]},'.repeat(1000)}{}]`;
    expect(deeper(wide, 3)).toBe(false);
    expect(deeper(wide, 2)).toBe(true);
  });

  it("refuses 100,000 levels and takes the documented maximum", () => {
    expect(deeper(`${"[".repeat(100_000)}${"]".repeat(100_000)}`, maxJsonDepth)).toBe(true);
    expect(deeper(`${"[".repeat(maxJsonDepth)}${"]".repeat(maxJsonDepth)}`, maxJsonDepth)).toBe(false);
    expect(maxJsonDepth).toBe(64);
  });
});
