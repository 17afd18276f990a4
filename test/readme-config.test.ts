import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

describe("the README", () => {
  it("shows the shipped config/relay.yaml, not one of its own", () => {
    const readme = read("README.md");
    const section = readme.slice(readme.indexOf("## Configure"));
    const snippet = /```yaml\n([\s\S]*?)```/.exec(section)?.[1];
    expect(snippet).toBeDefined();
    expect(parse(snippet ?? "")).toEqual(parse(read("config/relay.yaml")));
  });
});
