import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { runCli, writeConfig } from "../support/cli-run.js";
import { useEmbeddedRelay } from "../support/embedded-relay.js";
import { startRelayProcess } from "../support/relay-process.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/** `redis.url: embedded`: the relay starts, watches and stops a redis-server of its own. */
describe("the embedded Redis", () => {
  const setup = useEmbeddedRelay("embedded");
  const config = () => setup.config();

  it("starts with the relay, takes and delivers a webhook, and stops with it", async () => {
    const relay = await startRelayProcess(config());
    const port = Number(new URL(readFileSync(join(setup.dataDir, "address"), "utf8")).port);
    expect(relay.lines.join("\n")).toContain("started an embedded Redis");

    const response = await fetch(`${relay.url}/webhooks/socialboards?token=t0ken-for-tests`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange,
    });
    expect(response.status).toBe(200);
    await setup.sink.waitForRequests(1);

    // Killed under the relay, it is started again, with what it held.
    const admin = new Redis(`redis://127.0.0.1:${port}`);
    const pid = Number(/process_id:(\d+)/.exec(await admin.info("server"))?.[1]);
    admin.disconnect();
    process.kill(pid, "SIGKILL");
    await waitFor(() => relay.lines.some((line) => line.includes("embedded Redis stopped; starting it again")));
    await waitFor(
      async () => {
        const again = await fetch(`${relay.url}/webhooks/socialboards?token=t0ken-for-tests`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: statusChange.replace("Cat is ill", "After a restart"),
        });
        return again.status === 200;
      },
      { what: "a webhook accepted after the restart", timeoutMs: 15_000 },
    );
    await setup.sink.waitForRequests(2, 15_000);

    // The same file saved again is reloaded without a word about sections that need a restart.
    writeFileSync(relay.configFile, `${config()}\n# saved again\n`);
    await waitFor(() => relay.lines.some((line) => line.includes("config reloaded")), { what: "the reload" });
    expect(relay.lines.filter((line) => line.includes("take effect after a restart"))).toEqual([]);

    relay.kill("SIGTERM");
    expect((await relay.exited).code).toBe(0);
    expect(await accepts(port)).toBe(false);
    // Its data stays for the next start: the append-only file is in the data folder.
    expect(readdirSync(setup.dataDir)).toContain("appendonlydir");
  }, 30_000);

  it("refuses to start without a redis-server, saying how to get one", async () => {
    const result = await runCli(["serve", "--config", writeConfig(config())], { env: { PATH: "/nonexistent" } });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("apt-get install redis-server");
    expect(result.stderr).toContain("REDIS_URL");
  });
});

/** Whether anything still listens on a loopback port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, "127.0.0.1");
    socket.once("connect", () => {
      socket.destroy();
      done(true);
    });
    socket.once("error", () => done(false));
  });
}
