import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createLogger } from "../../src/log.js";
import { watchConfig } from "../../src/reload.js";
import { runCli, writeConfig } from "../support/cli-run.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startTestRelay, uniquePrefix } from "../support/relay.js";
import { startRelayProcess } from "../support/relay-process.js";
import { useRedis } from "../support/use-redis.js";
import { waitFor } from "../support/wait.js";

const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/** Changing a running relay's config, and starting one that cannot start. */
describe("a running relay's config", () => {
  const redis = useRedis();
  let sink: HttpSink;

  beforeAll(async () => {
    sink = await startHttpSink();
  });

  afterAll(async () => {
    await sink?.close();
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

  /** Posts a webhook every 20 ms until stopped; what each answered, by its number. */
  const postUntilStopped = (url: string) => {
    const answers = new Map<number, number>();
    let posting = true;
    const done = (async () => {
      for (let n = 1; posting; n++) {
        const response = await fetch(`${url}/webhooks/socialboards?token=t0ken`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: statusChange.replace("Cat is ill", `Cat ${n}`),
        });
        answers.set(n, response.status);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    })();
    return {
      answers,
      stop: async () => {
        posting = false;
        await done;
      },
    };
  };
  const deliveredTo = (path: string) => sink.requests.filter((request) => request.path === path);

  it("keeps the old routes serving through a config cut short under load, and delivers every webhook", async () => {
    const prefix = uniquePrefix();
    const whole = config(prefix, "/cut-short");
    const relay = await startRelayProcess(whole);
    const poster = postUntilStopped(relay.url);
    try {
      await waitFor(() => deliveredTo("/cut-short").length >= 3, { what: "deliveries before the cut" });
      // What a copy or a save interrupted half-way leaves: valid YAML that ends after the sources.
      writeFileSync(relay.configFile, whole.slice(0, whole.indexOf("targets:")));
      const refusal = await waitFor(() => relay.lines.find((line) => line.includes("config not reloaded:")), {
        what: "the refusal",
      });
      expect(JSON.parse(refusal)).toMatchObject({
        level: 40,
        msg: expect.stringContaining(
          `the file has no targets and no routes where the running config has 1 target and 1 route, so every webhook would match no route and nothing would be delivered`,
        ),
      });
      expect(refusal).toContain(`ticket-relay reload --force --pid ${relay.pid}`);
      const atRefusal = deliveredTo("/cut-short").length;
      await waitFor(() => deliveredTo("/cut-short").length >= atRefusal + 20, { what: "deliveries after the cut" });
    } finally {
      await poster.stop();
    }
    try {
      const accepted = [...poster.answers].filter(([, status]) => status === 200).map(([n]) => n);
      expect(accepted.length).toBe(poster.answers.size);
      await waitFor(() => deliveredTo("/cut-short").length >= accepted.length, {
        what: `all ${accepted.length} accepted webhooks delivered (have ${deliveredTo("/cut-short").length})`,
        timeoutMs: 20_000,
      });
      const bodies = deliveredTo("/cut-short").map((request) => request.body);
      expect(accepted.filter((n) => !bodies.some((body) => body.includes(`"Cat ${n}"`)))).toEqual([]);
      expect(relay.lines.filter((line) => line.includes("config not reloaded")).length).toBe(1);
      expect(relay.lines.some((line) => line.includes('"config reloaded"'))).toBe(false);
    } finally {
      relay.kill("SIGTERM");
      await relay.exited;
    }
  }, 60_000);

  it("puts a config without routes in force only when told to with ticket-relay reload --force", async () => {
    const prefix = uniquePrefix();
    const whole = config(prefix, "/forced");
    const relay = await startRelayProcess(whole);
    const refusals = () => relay.lines.filter((line) => line.includes("config not reloaded:")).length;
    try {
      const cut = whole.slice(0, whole.indexOf("routes:"));
      writeFileSync(relay.configFile, cut);
      // A change written the moment the relay is up may come before its watch does: write it again.
      await waitFor(() => refusals() >= 1, { what: "the refusal of the file change", timeoutMs: 5000 }).catch(
        async () => {
          writeFileSync(relay.configFile, `${cut}\n`);
          await waitFor(() => refusals() >= 1, { what: "the refusal of the file change" });
        },
      );
      const changesRefused = refusals();

      const asked = await runCli(["reload", "--pid", String(relay.pid)]);
      expect(asked.code).toBe(0);
      expect(asked.stdout).toContain(`sent SIGHUP to ${relay.pid}`);
      await waitFor(() => refusals() === changesRefused + 1, { what: "the refusal of the plain reload" });
      expect(relay.lines.filter((line) => line.includes("config not reloaded:"))[changesRefused]).toContain(
        "the file has no routes where the running config has 1 route",
      );

      const forced = await runCli(["reload", "--force", "--pid", String(relay.pid)]);
      expect(forced.code).toBe(0);
      const reloaded = await waitFor(() => relay.lines.find((line) => line.includes('"config reloaded"')), {
        what: "the forced reload",
      });
      expect(JSON.parse(reloaded)).toMatchObject({ routes: 0, targets: ["crm"] });

      // With no routes in force, none is left to lose: the whole file goes in without force.
      writeFileSync(relay.configFile, whole);
      await waitFor(() => relay.lines.filter((line) => line.includes('"config reloaded"')).length === 2, {
        what: "the reload of the whole file",
      });
      expect(refusals()).toBe(changesRefused + 1);
    } finally {
      relay.kill("SIGTERM");
      await relay.exited;
    }
  }, 60_000);

  it("reads a config file written in pieces only once it has stopped changing", async () => {
    const dir = mkdtempSync(join(tmpdir(), "reload-pieces-"));
    const file = join(dir, "relay.yaml");
    const before = config(uniquePrefix(), "/pieces-before");
    writeFileSync(file, before);
    const relay = await startTestRelay(before);
    const logs = new Writable({
      write(chunk, _encoding, done) {
        relay.logs.push(String(chunk));
        done();
      },
    });
    const stopWatching = watchConfig(file, relay, createLogger({ destination: logs }), relay.config, {
      settleMs: 1500,
    });
    try {
      const after = before.replace("/pieces-before", "/pieces-after");
      const cuts = [0, after.indexOf("targets:"), after.indexOf("routes:"), after.length];
      writeFileSync(file, "");
      // A slow writer: each piece lands 400 ms after the last, and each piece but the last
      // leaves a valid file with no targets or no routes. The pause is the behaviour under test.
      for (let i = 1; i < cuts.length; i++) {
        appendFileSync(file, after.slice(cuts[i - 1], cuts[i]));
        if (i < cuts.length - 1) await new Promise((resolve) => setTimeout(resolve, 400));
      }
      await waitFor(() => relay.logs.some((line) => line.includes('"config reloaded"')), {
        what: "the reload of the whole file",
      });
      expect(relay.logs.filter((line) => line.includes("config not reloaded"))).toEqual([]);
      const reloads = relay.logs.filter((line) => line.includes('"config reloaded"'));
      expect(reloads.map((line) => JSON.parse(line).routes)).toEqual([1]);
      const posted = await fetch(`${relay.url}/webhooks/socialboards?token=t0ken`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: statusChange.replace("Cat is ill", "Cat in pieces"),
      });
      expect(posted.status).toBe(200);
      await waitFor(() => deliveredTo("/pieces-after").length === 1, { what: "a delivery on the new route" });
    } finally {
      stopWatching();
      await relay.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("says which process it could not find when asked to reload one that is not there", async () => {
    const result = await runCli(["reload", "--pid", "999999999"]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim()).toBe(
      "no process 999999999: is ticket-relay serve running, and is 999999999 its process id?",
    );
  });

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
