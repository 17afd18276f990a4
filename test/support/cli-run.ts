import { spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** How long the command took, start to exit. */
  ms: number;
}

const entry = new URL("cli-entry.ts", import.meta.url).pathname;

/**
 * One `ticket-relay` command as a real process, run to completion: what a user at a shell
 * sees, exit code included. Killed after `timeoutMs`, so a command that hangs fails its test
 * instead of the whole run.
 */
export function runCli(args: string[], options: { env?: NodeJS.ProcessEnv; timeoutMs?: number } = {}) {
  const started = Date.now();
  const child = spawn(process.execPath, ["--import", "tsx", entry, ...args], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, ...options.env },
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => {
    stdout += String(chunk);
  });
  child.stderr.on("data", (chunk) => {
    stderr += String(chunk);
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 45_000);
  return new Promise<CliResult>((resolve) => {
    child.once("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, ms: Date.now() - started });
    });
  });
}

/** Writes YAML to a config file of its own and returns the path, for `--config`. */
export function writeConfig(yaml: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "relay-cli-")), "relay.yaml");
  writeFileSync(file, yaml);
  return file;
}
