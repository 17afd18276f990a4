import { spawn } from "node:child_process";
import { describe, expect, it } from "vitest";
import { writeConfig } from "../support/cli-run.js";
import { uniquePrefix } from "../support/relay.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const entry = new URL("../support/cli-entry.ts", import.meta.url).pathname;

/** `serve` as a process whose stdout is a pipe, as under docker or systemd. */
describe("serve's log lines", () => {
  const redis = useRedis();

  /** Starts `serve`, waits for its "relay started" line, stops it, and returns what it wrote. */
  const serveUntilStarted = async (flags: string[]) => {
    const config = writeConfig(`
server: { port: 0, host: 127.0.0.1 }
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources: { sonar: { type: sonar, urlToken: "url-token-6d1e0b" } }
targets: { crm: { type: http, url: "https://crm.example.com/hooks" } }
routes: [{ to: [crm] }]
`);
    const child = spawn(process.execPath, ["--import", "tsx", entry, "serve", "--config", config, ...flags], {
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, LOG_LEVEL: "info" },
    });
    let output = "";
    child.stdout.on("data", (chunk) => {
      output += String(chunk);
    });
    child.stderr.on("data", (chunk) => {
      output += String(chunk);
    });
    let ended = false;
    const exited = new Promise<number | null>((resolve) =>
      // "close", not "exit": only then has everything the process wrote been read.
      child.once("close", (code) => {
        ended = true;
        resolve(code);
      }),
    );
    try {
      await waitFor(
        () => {
          if (ended) throw new Error(`serve exited at start:\n${output}`);
          return output.includes("relay started");
        },
        { what: "relay started", timeoutMs: 15_000 },
      );
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
    return output.split("\n").filter(Boolean);
  };

  it("are lines for people with --pretty", async () => {
    const lines = await serveUntilStarted(["--pretty"]);
    const started = lines.find((line) => line.includes("relay started"));
    expect(started).toMatch(/^\[[\d:.]+\] INFO: relay started \{"role":"all",/);
    expect(lines.some((line) => line.startsWith("{"))).toBe(false);
    expect(lines.join("\n")).toContain("stopped");
  });

  it("are JSON, one object a line, without --pretty when stdout is not a terminal", async () => {
    const lines = await serveUntilStarted([]);
    const parsed = lines.map((line) => JSON.parse(line) as { msg: string });
    expect(parsed.map((line) => line.msg)).toContain("relay started");
  });
});
