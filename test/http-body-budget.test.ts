import { readFileSync } from "node:fs";
import { type ClientRequest, request } from "node:http";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ConfigError } from "../src/config/errors.js";
import { parseConfig } from "../src/config/load.js";
import { connectRaw, type RawConnection } from "./support/raw-http.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");
const mb = 1024 * 1024;
const path = "/webhooks/socialboards?token=url-secret";
const head = (headers: string) =>
  `POST ${path} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n${headers}\r\n`;

/** The status change with `bytes` of padding in a field the source does not read. */
const padded = (bytes: number) => `${statusChange.trimEnd().slice(0, -1)}, "Pad": "${"x".repeat(bytes)}"}`;

/** One webhook on a connection of its own (agent: false), so no kept-alive socket lingers. */
function postWebhook(baseUrl: string, body = statusChange): Promise<number> {
  return send(baseUrl, (req) => req.end(body));
}

/** The same, sent in 64 KB pieces with no Content-Length: Node sends it chunked. */
function postChunked(baseUrl: string, body: string): Promise<number> {
  return send(baseUrl, (req) => {
    for (let at = 0; at < body.length; at += 64 * 1024) req.write(body.slice(at, at + 64 * 1024));
    req.end();
  });
}

function send(baseUrl: string, write: (req: ClientRequest) => void): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(`${baseUrl}${path}`, {
      method: "POST",
      agent: false,
      headers: { "content-type": "application/json" },
    });
    req.on("response", (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    req.on("error", reject);
    write(req);
  });
}

/**
 * Body bytes held across requests (server.maxBodyBytesInFlight): a budget of 3 MB with a 1 MB
 * bodyLimit, over plain sockets, because only they can hold a body half sent.
 */
describe("the body budget shared by all requests", () => {
  const redis = useRedis();
  let relay: TestRelay;
  const open: RawConnection[] = [];

  beforeAll(async () => {
    relay = await startTestRelay(
      `
server: { bodyLimit: 1mb, maxBodyBytesInFlight: 3mb }
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: "verify-secret", urlToken: "url-secret" }
`,
      { role: "ingest" },
    );
  });

  afterEach(() => {
    for (const connection of open.splice(0)) connection.socket.destroy();
  });

  afterAll(async () => {
    await relay?.close();
  });

  /** A sender that declares `declared` bytes, sends a first part and stalls. */
  const stalledSender = async (declared: number) => {
    const connection = await connectRaw(relay.url);
    open.push(connection);
    connection.write(head(`Content-Length: ${declared}\r\n`));
    connection.write('{"CommunityName":"a"');
    return connection;
  };
  const answered503 = (c: RawConnection) => /^HTTP\/1\.1 503 /.test(c.received());
  /** Once the held bodies are gone, an ordinary webhook is taken again: the budget was given back. */
  const acceptsAWebhookAgain = () =>
    waitFor(async () => (await postWebhook(relay.url)) === 200, { what: "a webhook answered 200" });

  it("answers 503 with Retry-After to bodies past the budget before reading them, and takes webhooks once they are gone", async () => {
    const senders = await Promise.all(Array.from({ length: 10 }, () => stalledSender(mb)));

    // Three declared megabytes fit; the other seven are refused at once, without their bodies.
    await waitFor(() => senders.filter(answered503).length === 7, { what: "seven 503 answers" });
    for (const refused of senders.filter(answered503)) {
      expect(refused.received()).toMatch(/\r\nRetry-After: 5\r\n/i);
      expect(refused.received()).toMatch(/\r\nConnection: close\r\n/i);
      expect(refused.received()).toContain('{"error":"too many request bodies are being received at once');
      expect(refused.received()).toContain("server.maxBodyBytesInFlight");
    }
    expect(senders.filter((c) => c.received() === "")).toHaveLength(3);
    // Full: even a small webhook waits its turn.
    expect(await postWebhook(relay.url)).toBe(503);

    for (const sender of senders) sender.socket.destroy();
    await acceptsAWebhookAgain();
  });

  it("counts a chunked body as it arrives: one that fits what is left is taken, one that outgrows it is refused", async () => {
    await stalledSender(mb);
    await stalledSender(mb);
    await stalledSender(mb / 2);
    await waitFor(async () => (await postWebhook(relay.url, " ".repeat(600 * 1024))) === 503, {
      what: "2.5 of the 3 MB to be held",
    });

    // 300 KB fits in the 512 KB left; had a body without a length been charged bodyLimit up
    // front, it would be refused.
    expect(await postChunked(relay.url, padded(300 * 1024))).toBe(200);
    const chunked = await connectRaw(relay.url);
    open.push(chunked);
    chunked.write(head("Transfer-Encoding: chunked\r\n"));
    const chunk = " ".repeat(64 * 1024);
    for (let sent = 0; sent < 700 * 1024; sent += chunk.length) {
      chunked.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    }

    expect(await chunked.closedWithin(5000)).toBeLessThan(5000);
    expect(chunked.received()).toMatch(/^HTTP\/1\.1 503 /);
    expect(chunked.received()).toMatch(/\r\nRetry-After: 5\r\n/i);

    for (const connection of open) connection.socket.destroy();
    await acceptsAWebhookAgain();
  });

  it("gives back what each finished request held: more webhooks in a row than the budget holds are all taken", async () => {
    // 900 KB bodies, each refused as JSON the relay cannot use (400), one after another: 9 MB
    // through a 3 MB budget, so each must give its share back on the error path too.
    const broken = padded(900 * 1024).slice(0, -1);
    for (let i = 0; i < 10; i += 1) expect(await postWebhook(relay.url, broken)).toBe(400);
    for (let i = 0; i < 10; i += 1) expect(await postWebhook(relay.url, padded(900 * 1024))).toBe(200);
  });
});

describe("server.maxBodyBytesInFlight", () => {
  const config = (server: string) =>
    parseConfig(`server: ${server}\nsources: { sb: { type: sonar, urlToken: none } }\n`, "t.yaml", {});

  it("defaults to 64 MB and takes a size", () => {
    expect(config("{}").server.maxBodyBytesInFlight).toBe(64 * mb);
    expect(config("{ maxBodyBytesInFlight: 8mb }").server.maxBodyBytesInFlight).toBe(8 * mb);
  });

  it("refuses a budget smaller than bodyLimit, which no full-size body could ever fit", () => {
    expect(() => config("{ bodyLimit: 2mb, maxBodyBytesInFlight: 1mb }")).toThrow(ConfigError);
    expect(() => config("{ bodyLimit: 2mb, maxBodyBytesInFlight: 1mb }")).toThrow(/maxBodyBytesInFlight/);
  });
});
