import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadDotEnv, parseDotEnv } from "../src/config/dotenv.js";

/** The values a .env text sets, by name. */
const valuesOf = (text: string) => Object.fromEntries(parseDotEnv(text).entries.map((e) => [e.name, e.value]));

describe(".env, read as Docker Compose reads it", () => {
  it.each([
    ["a # with no space before it is part of the value", "SLACK_CHANNEL=#help-desk", "#help-desk"],
    ["a # inside a word is part of the value", "TOKEN=abc#def", "abc#def"],
    ["a # after a space starts a comment", "SLACK_CHANNEL=#help-desk # the team's channel", "#help-desk"],
    ["double quotes keep a # and spaces", 'SLACK_CHANNEL="#help desk # not a comment"', "#help desk # not a comment"],
    ["a comment may follow the closing quote", 'SLACK_CHANNEL="#support" # where alerts go', "#support"],
    [
      "single quotes are taken as written",
      "MAIL_FROM='Relay <relay@example.com> \\n $HOME'",
      "Relay <relay@example.com> \\n $HOME",
    ],
    ['double quotes read \\n, \\t, \\\\ and \\"', 'JSON="{\\"a\\": 1}\\tend\\n"', '{"a": 1}\tend\n'],
    ["empty is empty", "SLACK_BOT_TOKEN=", ""],
    ["empty quotes are empty", 'SLACK_BOT_TOKEN=""', ""],
    ["export is allowed", "export REDIS_URL=redis://127.0.0.1:6379", "redis://127.0.0.1:6379"],
    ["spaces around the value are dropped", "PORT =  8080  ", "8080"],
    ["Windows line ends are not part of the value", "PORT=8080\r", "8080"],
  ])("%s", (_what, line, value) => {
    const name = /^(?:export\s+)?(\w+)/.exec(line)?.[1] ?? "";
    expect(valuesOf(line)).toEqual({ [name]: value });
  });

  it("skips comments, blank lines and a name alone, and reads a double-quoted value over lines", () => {
    expect(
      valuesOf('# a comment\n\n   # indented\nFROM_ENV\nKEY="-----BEGIN KEY-----\nabc\n-----END KEY-----"\nAFTER=1\n'),
    ).toEqual({
      KEY: "-----BEGIN KEY-----\nabc\n-----END KEY-----",
      AFTER: "1",
    });
  });

  it("warns, with the line, about a value that looks cut short and a quote never closed", () => {
    const { problems, entries } = parseDotEnv('A=ok # fine\nTOKEN=abc #def\nB="never closed\nC=3\n');
    expect(problems).toEqual([
      { line: 2, message: expect.stringMatching(/^TOKEN's value ends before " #def".*write TOKEN="…"$/) },
      { line: 3, message: expect.stringMatching(/^B's value opens a " and never closes it/) },
    ]);
    expect(entries.map((entry) => entry.name)).toEqual(["A", "TOKEN", "C"]);
  });

  it("sets what is not set yet, and prints each warning with file and line", () => {
    const file = join(mkdtempSync(join(tmpdir(), "relay-env-")), ".env");
    process.env.DOTENV_T4 = "from the environment";
    writeFileSync(file, 'DOTENV_T1=#support\nDOTENV_T2="#quoted"\nDOTENV_T3=cut #here\nDOTENV_T4=from the file\n');
    const printed: string[] = [];
    const warnings = loadDotEnv(file, (line) => printed.push(line));
    expect(process.env.DOTENV_T1).toBe("#support");
    expect(process.env.DOTENV_T2).toBe("#quoted");
    expect(process.env.DOTENV_T3).toBe("cut");
    expect(process.env.DOTENV_T4).toBe("from the environment");
    expect(warnings).toEqual([expect.stringMatching(/\.env:3: DOTENV_T3's value ends before " #here"/)]);
    expect(printed).toEqual(warnings);
  });

  it("keeps the example .env free of warnings", () => {
    expect(loadDotEnv(new URL("../.env.example", import.meta.url).pathname, () => undefined)).toEqual([]);
  });
});
