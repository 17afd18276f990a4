import { readFileSync } from "node:fs";
import { createServer, type ServerResponse } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeServer, listen } from "./support/listen.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const ticketCreation = readFileSync(new URL("fixtures/socialboards/ticket_creation.json", import.meta.url), "utf8");
const answerBytes = 300 * 1024 * 1024;
const megabyte = 1024 * 1024;

/**
 * Answers every request with 300 MB, made chunk by chunk from one reused buffer and written only
 * as fast as the client reads, so the server itself never holds the body. Records how many bytes
 * it managed to hand to each socket before that socket closed.
 */
async function startHugeAnswers(statuses: number[]) {
  const written: number[] = [];
  const filler = Buffer.alloc(64 * 1024, "x");
  const stream = async (response: ServerResponse) => {
    const closed = new Promise((resolve) => response.once("close", resolve));
    let bytes = 0;
    const first = Buffer.from("Out of memory\nwhile rendering the answer\n");
    for (let chunk = first; bytes < answerBytes && !response.destroyed; chunk = filler) {
      const part = chunk.subarray(0, answerBytes - bytes);
      bytes += part.length;
      if (!response.write(part)) await Promise.race([new Promise((r) => response.once("drain", r)), closed]);
    }
    response.end();
    await closed;
    written.push(bytes);
  };
  const server = createServer((request, response) => {
    request.resume();
    request.once("end", () => {
      response.writeHead(statuses.shift() ?? 200, { "content-type": "text/plain", "content-length": answerBytes });
      void stream(response);
    });
  });
  return { url: await listen(server), written, close: () => closeServer(server) };
}

describe("an HTTP target that answers with 300 MB bodies", () => {
  const redis = useRedis();
  let huge: Awaited<ReturnType<typeof startHugeAnswers>>;
  let relay: TestRelay;

  beforeAll(async () => {
    huge = await startHugeAnswers([500, 500, 200]);
    relay = await startTestRelay(`
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  big: { type: http, url: "${huge.url}/hooks", timeout: 30s }
retry: { attempts: 3, backoff: fixed, delay: 50ms, maxDelay: 100ms }
routes:
  - to: [big]
`);
  });

  afterAll(async () => {
    await relay?.close();
    await huge?.close();
  });

  it("reads a few KB of each answer, retries the 500s and delivers on the 200, without the memory for the bodies", async () => {
    const before = process.memoryUsage().rss;
    let peak = before;
    const sampler = setInterval(() => {
      peak = Math.max(peak, process.memoryUsage().rss);
    }, 10);
    try {
      await fetch(`${relay.url}/webhooks/socialboards`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: ticketCreation,
      });
      // Completed jobs are removed from Redis; the log says which try delivered.
      const delivered = await waitFor(() => relay.logs.find((line) => line.includes('"msg":"delivered"')), {
        timeoutMs: 60_000,
        what: "the delivery to complete",
      });
      expect(JSON.parse(delivered)).toMatchObject({ attempt: 3, detail: "HTTP 200" });
      await waitFor(() => huge.written.length === 3 || undefined, { what: "the server to see three sockets close" });
    } finally {
      clearInterval(sampler);
      peak = Math.max(peak, process.memoryUsage().rss);
    }

    expect((peak - before) / megabyte).toBeLessThan(100);
    // The relay hung up early: no answer was sent in full.
    for (const bytes of huge.written) expect(bytes).toBeLessThan(answerBytes);

    const retries = relay.logs
      .filter((line) => line.includes("will retry"))
      .map((line) => JSON.parse(line).err.message);
    expect(retries).toHaveLength(2);
    for (const reason of retries) {
      const snippet = String(reason).split("answered 500: ")[1] ?? "";
      expect(snippet).toMatch(/^Out of memory while rendering the answer x+/);
      expect(snippet.length).toBeLessThanOrEqual(200);
      expect(snippet).not.toMatch(/[\r\n]/);
    }
  }, 120_000);
});
