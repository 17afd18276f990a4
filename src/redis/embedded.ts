import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join, resolve } from "node:path";
import { Redis } from "ioredis";
import type { Logger } from "../log.js";

/** `redis.url: embedded`: the relay runs a Redis of its own, for a single machine. */
export const embedded = "embedded";

/** No redis-server to start: said once, with every way out. */
export class RedisServerMissing extends Error {
  constructor() {
    super(
      "redis.url is `embedded`, but no redis-server is installed here. Install one " +
        "(Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis), " +
        "or run the relay with its Redis by `docker compose up`, " +
        "or set REDIS_URL to a Redis you run (redis://host:6379).",
    );
  }
}

export interface EmbeddedRedis {
  url: string;
  /** Stops the server, if this process started it; its data stays in the data folder. */
  stop(): Promise<void>;
  /** Sends the server SIGTERM without waiting, for a process about to exit at once. */
  stopNow(): void;
}

/** Where a running embedded Redis writes its address, so `dlq`, `targets` and `try` find it. */
function addressFile(dataDir: string): string {
  return join(dataDir, "address");
}

/** The process id of the relay that started the embedded Redis, and stops it. */
function ownerFile(dataDir: string): string {
  return join(dataDir, "owner");
}

/** Whether the relay that started the Redis at `dataDir` is gone without stopping it. */
function ownerIsGone(dataDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(ownerFile(dataDir), "utf8").trim());
  } catch {
    // Started by a relay that wrote no owner: take it as running.
    return false;
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}

/**
 * Starts a redis-server for this relay and keeps it running: AOF on (every accepted webhook
 * survives a restart), `noeviction` (a full Redis refuses writes instead of dropping events),
 * data in `dataDir`, listening on a free loopback port only. If it dies it is started again,
 * on the same port, with its data. When another relay process on this machine already runs
 * one for the same folder, that one is used instead (and left running). One left behind by a
 * relay that was killed (SIGKILL) is shut down and started again under this relay.
 *
 * The server runs in a process group of its own, so the Ctrl-C a terminal sends to the relay's
 * group does not reach it: the relay stops it last, once nothing needs Redis any more.
 */
export async function startEmbeddedRedis(dataDir: string, logger: Logger): Promise<EmbeddedRedis> {
  const dir = resolve(dataDir);
  let running = await runningEmbeddedRedis(dir);
  if (running && ownerIsGone(dir)) {
    logger.warn(
      { url: running, dataDir: dir },
      "an embedded Redis was left running by a relay that did not stop; stopping it and starting it again",
    );
    await shutDown(running);
    running = undefined;
  }
  if (running) {
    logger.info({ url: running, dataDir: dir }, "using the embedded Redis another relay process started");
    return { url: running, stop: async () => undefined, stopNow: () => undefined };
  }
  const binary = findOnPath("redis-server");
  if (!binary) throw new RedisServerMissing();
  mkdirSync(dir, { recursive: true });
  const port = await freeLoopbackPort();
  const url = `redis://127.0.0.1:${port}`;
  const args = ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", ""];
  args.push("--appendonly", "yes", "--appendfsync", "everysec", "--maxmemory-policy", "noeviction");
  args.push("--loglevel", "warning", "--daemonize", "no");

  let child: ChildProcess | undefined;
  let stopping = false;
  let restartDelayMs = 1000;
  let lastOutput = "";
  const launch = () => {
    // detached: a process group of its own, out of reach of the terminal's Ctrl-C.
    const spawned = spawn(binary, args, { stdio: ["ignore", "pipe", "pipe"], detached: true });
    child = spawned;
    const keep = (chunk: Buffer) => {
      lastOutput = (lastOutput + String(chunk)).slice(-2000);
    };
    spawned.stdout?.on("data", keep);
    spawned.stderr?.on("data", keep);
    spawned.once("exit", (code, signal) => {
      if (stopping) return;
      logger.error(
        { code, signal, restartInMs: restartDelayMs, output: lastOutput.trim().split("\n").slice(-3) },
        "embedded Redis stopped; starting it again",
      );
      setTimeout(launch, restartDelayMs).unref();
      restartDelayMs = Math.min(restartDelayMs * 2, 30_000);
    });
  };
  launch();
  if (!(await answersPing(url, 10_000))) {
    stopping = true;
    child?.kill("SIGKILL");
    throw new Error(`embedded Redis did not start: ${lastOutput.trim() || "no output"}`);
  }
  restartDelayMs = 1000;
  writeFileSync(ownerFile(dir), String(process.pid));
  writeFileSync(addressFile(dir), url);
  logger.info(
    { url, dataDir: dir },
    "started an embedded Redis for this relay (for production, set REDIS_URL to a Redis you run)",
  );
  return {
    url,
    async stop() {
      stopping = true;
      const current = child;
      rmSync(addressFile(dir), { force: true });
      rmSync(ownerFile(dir), { force: true });
      if (!current || current.exitCode !== null || current.signalCode !== null) return;
      const exited = new Promise((done) => current.once("exit", done));
      // SIGTERM: Redis flushes its append-only file before it exits.
      current.kill("SIGTERM");
      const timer = setTimeout(() => current.kill("SIGKILL"), 5000);
      await exited;
      clearTimeout(timer);
    },
    stopNow() {
      stopping = true;
      rmSync(addressFile(dir), { force: true });
      rmSync(ownerFile(dir), { force: true });
      // SIGTERM: Redis still flushes its append-only file, after this process has gone.
      child?.kill("SIGTERM");
    },
  };
}

/**
 * The URL of the embedded Redis a running relay started for `dataDir`, for commands that work
 * on a running relay's state; undefined when none answers there.
 */
export async function runningEmbeddedRedis(dataDir: string): Promise<string | undefined> {
  let url: string;
  try {
    url = readFileSync(addressFile(resolve(dataDir)), "utf8").trim();
  } catch {
    return undefined;
  }
  return /^redis:\/\/127\.0\.0\.1:\d+$/.test(url) && (await answersPing(url, 1000)) ? url : undefined;
}

function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer();
    probe.once("error", fail);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => done(port));
    });
  });
}

/** SHUTDOWN: Redis flushes its append-only file and exits; the connection closing is the answer. */
async function shutDown(url: string): Promise<void> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.shutdown().catch(() => undefined);
  } catch {
    // gone already
  } finally {
    client.disconnect();
  }
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline && (await answersPing(url, 100))) {
    await new Promise((wait) => setTimeout(wait, 100));
  }
}

async function answersPing(url: string, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on("error", () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === "PONG") return true;
    } catch {
      // not up yet
    } finally {
      client.disconnect();
    }
    await new Promise((wait) => setTimeout(wait, 100));
  }
  return false;
}
