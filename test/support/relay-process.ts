import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Role } from "../../src/serve.js";
import { waitFor } from "./wait.js";

export interface RelayProcess {
  /** Where ingest listens (roles all and ingest). */
  url: string;
  /** Where the worker role's ops server listens (/healthz, /readyz, /metrics); "" in other roles. */
  opsUrl: string;
  /** The config file it runs with: rewrite it to test a reload. */
  configFile: string;
  /** The relay's own process id (node itself), e.g. to read its memory from /proc. */
  pid: number;
  /** Every line the process wrote to stdout and stderr. */
  lines: string[];
  /** Sends a signal: SIGTERM for a shutdown, SIGKILL for a crash. */
  kill(signal: NodeJS.Signals): void;
  /** Resolves with the exit code (or the signal that ended it). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const entry = new URL("cli-entry.ts", import.meta.url).pathname;
const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});

/**
 * `ticket-relay serve` as a real process, from YAML as a user writes it: for what only a
 * process shows, such as signals, exit codes and crashes.
 */
export async function startRelayProcess(
  yaml: string,
  role: Role = "all",
  // detached: a process group of its own, which a test signals whole as a terminal does.
  options: { env?: NodeJS.ProcessEnv; startTimeoutMs?: number; detached?: boolean } = {},
): Promise<RelayProcess> {
  const dir = mkdtempSync(join(tmpdir(), "relay-process-"));
  const file = join(dir, "relay.yaml");
  writeFileSync(file, yaml);
  const child = spawn(process.execPath, ["--import", "tsx", entry, "serve", "--config", file, "--role", role], {
    stdio: ["ignore", "pipe", "pipe"],
    detached: options.detached ?? false,
    // A worker's ops server on a free port: several test files run worker processes at once.
    env: { ...process.env, LOG_LEVEL: "debug", OPS_PORT: process.env.OPS_PORT ?? "0", ...options.env },
  });
  alive.add(child);
  const lines: string[] = [];
  const collect = (chunk: Buffer) => lines.push(...String(chunk).split("\n").filter(Boolean));
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once("close", (code, signal) => {
      alive.delete(child);
      rmSync(dir, { recursive: true, force: true });
      resolve({ code, signal });
    }),
  );
  let ended = false;
  void exited.then(() => {
    ended = true;
  });

  const started = await waitFor(
    () => {
      if (ended) throw new Error(`relay exited at start:\n${lines.join("\n")}`);
      return lines.find((line) => line.includes('"relay started"'));
    },
    { what: "the relay process to start", timeoutMs: options.startTimeoutMs ?? 30_000 },
  ).catch((error: Error) => {
    child.kill("SIGKILL");
    throw error;
  });
  void started;
  const listening = lines.find((line) => line.includes('"listening for webhooks"'));
  const port = listening ? (JSON.parse(listening) as { port: number }).port : undefined;
  const ops = lines.find((line) => line.includes('"listening for health checks and scrapes"'));
  const opsPort = ops ? (JSON.parse(ops) as { port: number }).port : undefined;
  return {
    url: port ? `http://127.0.0.1:${port}` : "",
    opsUrl: opsPort ? `http://127.0.0.1:${opsPort}` : "",
    configFile: file,
    pid: child.pid ?? 0,
    lines,
    kill: (signal) => child.kill(signal),
    exited,
  };
}
