import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDotEnv } from "../src/config/dotenv.js";

describe(".env", () => {
  it("warns about an unquoted value with a #, which the format cuts there, and loads the rest", () => {
    const file = join(mkdtempSync(join(tmpdir(), "relay-env-")), ".env");
    writeFileSync(file, 'DOTENV_T1=#support\nDOTENV_T2="#quoted"\nDOTENV_T3=plain\n# a comment\n');
    const warnings = loadDotEnv(file, () => undefined);
    expect(warnings).toEqual([expect.stringMatching(/:1: DOTENV_T1's value has a # and no quotes/)]);
    expect(process.env.DOTENV_T2).toBe("#quoted");
    expect(process.env.DOTENV_T3).toBe("plain");
  });

  it("keeps the example .env free of that trap", () => {
    expect(loadDotEnv(new URL("../.env.example", import.meta.url).pathname, () => undefined)).toEqual([]);
  });
});
