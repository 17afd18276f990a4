import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** The pages users read: the README and everything under docs/. */
function docFiles(): string[] {
  const docs = readdirSync(join(root, "docs"), { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".md"))
    .map((name) => join("docs", name));
  return ["README.md", ...docs].sort();
}

/**
 * The text a reader sees as prose: fenced code blocks and inline code are blanked (kept as
 * newlines, so line numbers stay right), because `[a](b)` inside code is not a link.
 */
function prose(markdown: string): string {
  return markdown
    .replace(/^( {0,3})(`{3,}|~{3,})[^\n]*\n[\s\S]*?^\1?\2[^\n]*$/gm, (block) => block.replace(/[^\n]/g, " "))
    .replace(/(`+)[^\n]*?\1/g, (code) => " ".repeat(code.length));
}

interface Link {
  file: string;
  line: number;
  target: string;
}

/** Inline links and images, `[text](target "title")` and `![alt](<target>)`, and reference definitions. */
function linksIn(file: string): Link[] {
  const text = prose(readFileSync(join(root, file), "utf8"));
  const found: Link[] = [];
  const lineOf = (index: number) => text.slice(0, index).split("\n").length;
  for (const match of text.matchAll(/!?\[(?:[^\]\\]|\\.)*\]\(\s*(<[^>]*>|[^\s)]+)(?:\s+"[^"]*")?\s*\)/g)) {
    found.push({ file, line: lineOf(match.index), target: match[1]?.replace(/^<|>$/g, "") ?? "" });
  }
  for (const match of text.matchAll(/^ {0,3}\[[^\]]+\]:\s*(<[^>]*>|\S+)/gm)) {
    found.push({ file, line: lineOf(match.index), target: match[1]?.replace(/^<|>$/g, "") ?? "" });
  }
  return found;
}

/** A link to another site or a mail address, or an anchor on the same page: not a file to find. */
function isExternal(target: string): boolean {
  return /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith("//") || target.startsWith("#");
}

/** The file or folder a relative link names, as GitHub resolves it (a leading `/` is the repository root). */
function resolveLink(link: Link): string {
  const path = decodeURI(link.target.replace(/[?#].*$/, ""));
  return path.startsWith("/") ? join(root, path) : resolve(root, dirname(link.file), path);
}

describe("the docs", () => {
  const files = docFiles();
  const links = files.flatMap(linksIn).filter((link) => !isExternal(link.target));

  it("has pages to check", () => {
    expect(files).toContain("README.md");
    expect(files).toContain("docs/sources/socialboards.md");
    expect(links.length).toBeGreaterThan(10);
  });

  it("links only to files and folders that exist in the repository", () => {
    const broken = links
      .filter((link) => {
        const target = resolveLink(link);
        return relative(root, target).startsWith("..") || !existsSync(target);
      })
      .map((link) => `${link.file}:${link.line} → ${link.target}`)
      .sort();
    expect(broken).toEqual([]);
  });

  it("never names a path outside the repository", () => {
    // Material kept beside the repository is not there for readers: docs link the public pages.
    const outside = /\.\.\/shared|\bshared\/reference\/|\/work\//;
    const mentions = files.flatMap((file) =>
      readFileSync(join(root, file), "utf8")
        .split("\n")
        .flatMap((line, index) => (outside.test(line) ? [`${file}:${index + 1}: ${line.trim()}`] : [])),
    );
    expect(mentions).toEqual([]);
  });
});
