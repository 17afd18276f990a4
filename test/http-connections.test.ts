import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectRaw } from "./support/raw-http.js";
import { type RedisServer, startRedisServer } from "./support/redis.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";

const statusChange = readFileSync(new URL("fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

/** Well under the server's request timeout: an answer this fast did not wait for the body. */
const promptlyMs = 2000;

const head = (path: string, headers: string) =>
  `POST ${path} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\n${headers}\r\n`;

/**
 * What a client sees on the wire when the relay answers before it has read the whole body:
 * over plain sockets, because fetch() can neither send a half body nor show a closed socket.
 */
describe("connections the relay answers before reading the whole body", () => {
  let redis: RedisServer;
  let relay: TestRelay;

  beforeAll(async () => {
    redis = await startRedisServer();
    relay = await startTestRelay(
      `
server: { bodyLimit: 2mb }
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: "verify-secret", urlToken: "url-secret" }
`,
      { role: "ingest" },
    );
  });

  afterAll(async () => {
    await relay?.close();
    await redis?.stop();
  });

  const acceptsAWebhookOnANewConnection = async () => {
    const response = await fetch(`${relay.url}/webhooks/socialboards?token=url-secret`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: statusChange,
    });
    expect(response.status).toBe(200);
  };

  it("answers 413 to a chunked body over the limit with Connection: close, and closes the socket", async () => {
    const connection = await connectRaw(relay.url);
    connection.write(head("/webhooks/socialboards?token=url-secret", "Transfer-Encoding: chunked\r\n"));
    // 3 MB in 64 KB chunks, and no final chunk: a sender still sending when the limit is hit.
    const chunk = `{"pad":"${"x".repeat(64 * 1024 - 10)}"}`;
    for (let sent = 0; sent < 3 * 1024 * 1024; sent += chunk.length) {
      connection.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    }

    expect(await connection.closedWithin(promptlyMs)).toBeLessThan(promptlyMs);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 413 /);
    expect(connection.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(connection.received()).toContain("limit");
    await acceptsAWebhookOnANewConnection();
  });

  it("closes the socket after a 413 even when the chunked body was sent in full", async () => {
    const connection = await connectRaw(relay.url);
    const body = JSON.stringify({ pad: "x".repeat(3 * 1024 * 1024) });
    connection.write(head("/webhooks/socialboards?token=url-secret", "Transfer-Encoding: chunked\r\n"));
    connection.write(`${Buffer.byteLength(body).toString(16)}\r\n${body}\r\n0\r\n\r\n`);

    expect(await connection.closedWithin(promptlyMs)).toBeLessThan(promptlyMs);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 413 /);
    await acceptsAWebhookOnANewConnection();
  });

  it("refuses a wrong token at once with 401, without waiting for the 1 MB body it announced", async () => {
    const connection = await connectRaw(relay.url);
    connection.write(head("/webhooks/socialboards?token=guess", `Content-Length: ${1024 * 1024}\r\n`));
    connection.write('{"CommunityName":"a"');

    expect(await connection.closedWithin(promptlyMs)).toBeLessThan(promptlyMs);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 401 /);
    expect(connection.received()).toMatch(/\r\nConnection: close\r\n/i);
    expect(connection.received()).toContain("token");
    await acceptsAWebhookOnANewConnection();
  });

  it("refuses an unknown source at once with 404, without waiting for the body it announced", async () => {
    const connection = await connectRaw(relay.url);
    connection.write(head("/webhooks/zendesk?token=url-secret", `Content-Length: ${1024 * 1024}\r\n`));

    expect(await connection.closedWithin(promptlyMs)).toBeLessThan(promptlyMs);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 404 /);
  });

  it("keeps the connection open after answering a request whose body it read in full", async () => {
    const connection = await connectRaw(relay.url);
    const send = () =>
      connection.write(
        `${head("/webhooks/socialboards?token=url-secret", `Content-Length: ${Buffer.byteLength(statusChange)}\r\n`)}${statusChange}`,
      );
    send();
    send();
    await expect.poll(() => connection.received().match(/HTTP\/1\.1 200 /g)?.length ?? 0).toBe(2);
    expect(connection.received()).not.toMatch(/Connection: close/i);
    connection.socket.destroy();
  });
});
