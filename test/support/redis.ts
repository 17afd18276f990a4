import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./free-port.js";
import { waitFor } from "./wait.js";

export interface RedisServer {
  url: string;
  port: number;
  /** Stops the server and waits until it has exited: clients then see a real outage. */
  stop(): Promise<void>;
  /** Starts it again on the same port: empty, or with what it held when started with `persist`. */
  start(): Promise<void>;
}

const running = new Set<ChildProcess>();
const dirs = new Set<string>();
// A test run that dies half-way must not leave redis-servers or their folders behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A redis-server of the test's own, on a free port: tests never touch a Redis someone else
 * runs, and can stop and restart theirs on purpose. `noeviction` as in production, so a full
 * Redis refuses writes instead of silently dropping queued events.
 */
export async function startRedisServer(
  options: {
    /** Keep data across stop and start (AOF), as production Redis does; stop() is a clean shutdown. */
    persist?: boolean;
  } = {},
): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "relay-redis-"));
  dirs.add(dir);
  let child: ChildProcess | undefined;

  const start = async () => {
    const aof = options.persist ? ["--appendonly", "yes", "--appendfsync", "everysec"] : ["--appendonly", "no"];
    const args = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", ...aof];
    args.push("--dir", dir, "--maxmemory-policy", "noeviction", "--loglevel", "warning");
    const spawned = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    child = spawned;
    running.add(spawned);
    let exited = false;
    let stderr = "";
    spawned.stderr?.on("data", (chunk) => {
      stderr += String(chunk);
    });
    spawned.once("exit", () => {
      exited = true;
      running.delete(spawned);
    });
    spawned.once("error", (error) => {
      exited = true;
      stderr += error.message;
    });
    await waitFor(
      async () => {
        if (exited) throw new Error(`redis-server exited: ${stderr.trim() || "no output"}`);
        return (await ping(port)) || undefined;
      },
      { what: `redis-server on port ${port}`, timeoutMs: 10_000 },
    );
  };

  const stop = async () => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    const exited = new Promise((resolve) => current.once("exit", resolve));
    current.kill("SIGTERM");
    await exited;
  };

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    start,
    async stop() {
      await stop();
    },
  };
}

/** True when something on `port` answers PING with PONG. */
function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    const done = (answer: boolean) => {
      socket.destroy();
      resolve(answer);
    };
    socket.setTimeout(500, () => done(false));
    socket.once("error", () => done(false));
    socket.once("connect", () => socket.write("PING\r\n"));
    socket.once("data", (data) => done(String(data).startsWith("+PONG")));
  });
}
