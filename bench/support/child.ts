import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";

const alive = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of alive) child.kill("SIGKILL");
});

export interface BenchChild {
  pid: number;
  /** The process's resident set size now, in MB (from /proc). */
  rssMb(): number;
  /**
   * CPU time the process has used so far, user and system, in ms (from /proc). On a busy
   * machine, CPU per event is steadier than events per second.
   */
  cpuMs(): number;
  stop(): Promise<void>;
}

/**
 * A node process running a TypeScript file through tsx, its output written to `logFile` (the
 * relay's log lines cost what they cost in production, and the bench process does not read them).
 * Resolves once `ready()` says so.
 */
export async function startChild(
  args: string[],
  options: {
    env?: NodeJS.ProcessEnv;
    logFile: string;
    ready: () => Promise<boolean>;
    what: string;
    /** Options for node itself, e.g. `--cpu-prof`. */
    nodeOptions?: string[];
  },
): Promise<BenchChild> {
  const out = openSync(options.logFile, "a");
  const child = spawn(process.execPath, [...(options.nodeOptions ?? []), "--import", "tsx", ...args], {
    stdio: ["ignore", out, out],
    env: { ...process.env, ...options.env },
  });
  closeSync(out);
  alive.add(child);
  const exited = new Promise<void>((resolve) =>
    child.once("exit", () => {
      alive.delete(child);
      resolve();
    }),
  );
  const started = Date.now();
  while (!(await options.ready().catch(() => false))) {
    if (child.exitCode !== null) throw new Error(`${options.what} exited at start; see ${options.logFile}`);
    if (Date.now() - started > 30_000) {
      child.kill("SIGKILL");
      throw new Error(`${options.what} not ready after 30 s; see ${options.logFile}`);
    }
    await sleep(100);
  }
  return {
    pid: child.pid ?? 0,
    rssMb: () => rssMbOf(child.pid ?? 0),
    cpuMs: () => cpuMsOf(child.pid ?? 0),
    async stop() {
      if (child.exitCode === null) child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

export function rssMbOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
  return Math.round(kb / 102.4) / 10;
}

/** utime + stime of a process, in ms; the kernel counts them in ticks of 10 ms. */
export function cpuMsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** True when GET `url` answers 2xx. */
export async function answers(url: string): Promise<boolean> {
  const response = await fetch(url);
  await response.arrayBuffer();
  return response.ok;
}

/** Whether a relay process wrote its "relay started" line to `file` yet, however much it logged since. */
export function startedLogged(file: string): boolean {
  try {
    return readFileSync(file, "utf8").includes('"relay started"');
  } catch {
    return false;
  }
}

export function lastLines(file: string, count = 5): string {
  try {
    return readFileSync(file, "utf8").trim().split("\n").slice(-count).join("\n");
  } catch {
    return "";
  }
}
