import { readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, writeConfig } from "./support/cli-run.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";
import { type RedisServer, startRedisServer } from "./support/redis.js";
import { uniquePrefix } from "./support/relay.js";
import { startRelayProcess } from "./support/relay-process.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/** Changing a running relay's config, and starting one that cannot start. */
describe("a running relay's config", () => {
  let redis: RedisServer;
  let sink: HttpSink;

  beforeAll(async () => {
    [redis, sink] = await Promise.all([startRedisServer(), startHttpSink()]);
  });

  afterAll(async () => {
    await sink?.close();
    await redis?.stop();
  });

  const config = (prefix: string, path: string, port = 0) => `
server: { port: ${port}, host: 127.0.0.1 }
redis: { url: "${redis.url}", prefix: ${prefix} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: t0ken }
targets:
  crm: { type: http, url: "${sink.url}${path}" }
retry: { attempts: 2, backoff: fixed, delay: 100ms }
routes:
  - to: [crm]
`;

  it("keeps serving the old routes through a broken file, and swaps in a good one without dropping a request", async () => {
    const prefix = uniquePrefix();
    const relay = await startRelayProcess(config(prefix, "/before"));
    const answers: number[] = [];
    let posting = true;
    let sent = 0;
    const poster = (async () => {
      while (posting) {
        sent += 1;
        const response = await fetch(`${relay.url}/webhooks/socialboards?token=t0ken`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: statusChange.replace("Cat is ill", `Cat ${sent}`),
        });
        answers.push(response.status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    try {
      await sink.waitForRequests(3);
      writeFileSync(relay.configFile, "routes: [ this is not yaml");
      await waitFor(() => relay.lines.some((line) => line.includes("config not reloaded")), { what: "the refusal" });
      const afterBroken = sink.requests.length;
      await sink.waitForRequests(afterBroken + 3);
      expect(sink.requests.every((request) => request.path === "/before")).toBe(true);

      writeFileSync(relay.configFile, config(prefix, "/after"));
      await waitFor(() => relay.lines.some((line) => line.includes('"config reloaded"')), { what: "the reload" });
      await waitFor(() => sink.requests.filter((request) => request.path === "/after").length >= 3, {
        what: "deliveries on the new route",
      });
    } finally {
      posting = false;
      await poster;
      relay.kill("SIGTERM");
      await relay.exited;
    }
    expect(answers.length).toBeGreaterThan(10);
    expect(answers.every((status) => status === 200)).toBe(true);
  }, 40_000);

  it("says in one line that its port is taken, and exits 1 instead of running half-started", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const address = taken.address();
    const port = typeof address === "object" && address ? address.port : 0;
    try {
      const result = await runCli(["serve", "--config", writeConfig(config(uniquePrefix(), "/x", port))]);
      expect(result.code).toBe(1);
      expect(result.stderr.trim()).toBe(
        `port ${port} is already in use (127.0.0.1:${port}): stop what runs there, or set PORT / server.port`,
      );
      expect(result.ms).toBeLessThan(10_000);
    } finally {
      taken.close();
    }
  }, 20_000);
});
