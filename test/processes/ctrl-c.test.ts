import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { useEmbeddedRelay } from "../support/embedded-relay.js";
import { type RelayProcess, startRelayProcess } from "../support/relay-process.js";
import { waitFor } from "../support/wait.js";

/** Ctrl-C on `npm start` with the embedded Redis: the terminal signals the relay's whole group. */
describe("Ctrl-C with the embedded Redis", () => {
  const setup = useEmbeddedRelay("ctrl-c");
  const config = () => setup.config();

  it("stops like SIGTERM: exit 0, no restart of Redis, no refused connection, no redis-server left", async () => {
    const relay = await startRelayProcess(config(), "all", { detached: true });
    const redisPid = await embeddedRedisPid();

    process.kill(-relay.pid, "SIGINT");
    const { code } = await relay.exited;

    expect(code).toBe(0);
    const output = relay.lines.join("\n");
    expect(output).toContain('"shutting down"');
    expect(output).toContain('"stopped"');
    expect(output).not.toContain("starting it again");
    expect(output).not.toContain("ECONNREFUSED");
    expect(isRunning(redisPid)).toBe(false);
  }, 30_000);

  it("takes one Ctrl-C that npm passes on a second time as one, and still exits 0", async () => {
    const relay = await startRelayProcess(config(), "all", { detached: true });
    const redisPid = await embeddedRedisPid();

    // The terminal signals the group, and `npm start` passes the same signal on to its child.
    process.kill(-relay.pid, "SIGINT");
    process.kill(relay.pid, "SIGINT");
    const { code } = await relay.exited;

    expect(code).toBe(0);
    expect(relay.lines.filter((line) => line.includes('"shutting down"'))).toHaveLength(1);
    expect(relay.lines.join("\n")).not.toContain("second signal");
    expect(isRunning(redisPid)).toBe(false);
  }, 30_000);

  it("stops a redis-server left behind by a relay killed with SIGKILL at the next start", async () => {
    const killed = await startRelayProcess(config(), "all", { detached: true });
    const orphan = await embeddedRedisPid();
    killed.kill("SIGKILL");
    await killed.exited;
    expect(isRunning(orphan)).toBe(true);

    const next: RelayProcess = await startRelayProcess(config(), "all", { detached: true });
    await waitFor(() => !isRunning(orphan), { what: "the left-behind redis-server to exit" });
    expect(next.lines.join("\n")).toContain("left running by a relay that did not stop");
    const started = await embeddedRedisPid();

    process.kill(-next.pid, "SIGINT");
    expect((await next.exited).code).toBe(0);
    expect(isRunning(started)).toBe(false);
  }, 40_000);

  /** The process id of the redis-server the relay started, as that server reports it. */
  async function embeddedRedisPid(): Promise<number> {
    const url = await waitFor(() => readFileSync(join(setup.dataDir, "address"), "utf8").trim(), {
      what: "the embedded Redis's address",
    });
    const admin = new Redis(url);
    try {
      return Number(/process_id:(\d+)/.exec(await admin.info("server"))?.[1]);
    } finally {
      admin.disconnect();
    }
  }
});

/** Whether a process still runs: an exited one its new parent has not reaped yet (a zombie) does not. */
function isRunning(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
