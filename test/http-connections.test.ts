import { readFileSync } from "node:fs";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { connectRaw, type RawConnection } from "./support/raw-http.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "./support/relay.js";
import { useRedis } from "./support/use-redis.js";
import { waitFor } from "./support/wait.js";

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
  const redis = useRedis();
  let relay: TestRelay;

  beforeAll(async () => {
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

/**
 * server.maxConnections, headersTimeout and requestTimeout, as configured: Node looks for
 * requests past their timeouts only every connectionsCheckingInterval (30 s unless set).
 */
describe("connections past the configured limits and timeouts", () => {
  const redis = useRedis();
  let limited: TestRelay;
  let impatient: TestRelay;
  const open: RawConnection[] = [];

  const start = (server: string) =>
    startTestRelay(
      `
server: ${server}
redis: { url: "${redis.url}", prefix: ${uniquePrefix()} }
sources:
  socialboards: { type: socialboards, verifyToken: "verify-secret", urlToken: "url-secret" }
`,
      { role: "ingest" },
    );

  beforeAll(async () => {
    limited = await start("{ maxConnections: 4 }");
    // The whole body budget fits one body, so a body held open shows whether it is given back.
    impatient = await start("{ headersTimeout: 1s, requestTimeout: 2s, bodyLimit: 1mb, maxBodyBytesInFlight: 1mb }");
  });

  afterEach(() => {
    for (const connection of open.splice(0)) connection.socket.destroy();
  });

  afterAll(async () => {
    await limited?.close();
    await impatient?.close();
  });

  const connect = async (relay: TestRelay) => {
    const connection = await connectRaw(relay.url);
    open.push(connection);
    return connection;
  };
  const acceptsAWebhook = (relay: TestRelay) =>
    waitFor(
      async () => {
        const response = await fetch(`${relay.url}/webhooks/socialboards?token=url-secret`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: statusChange,
        });
        return response.status === 200;
      },
      { what: "a webhook answered 200" },
    );

  it("closes a connection past server.maxConnections unanswered, and serves again once one is gone", async () => {
    const four = [await connect(limited), await connect(limited), await connect(limited), await connect(limited)];
    const fifth = await connect(limited);

    expect(await fifth.closedWithin(promptlyMs)).toBeLessThan(promptlyMs);
    expect(fifth.received()).toBe("");
    four[0]?.socket.destroy();
    await acceptsAWebhook(limited);
  });

  it("cuts a half-sent header block with 408 within headersTimeout, not at Node's 30-second check", async () => {
    const connection = await connect(impatient);
    connection.write("POST /webhooks/socialboards HTTP/1.1\r\nHost: relay\r\nContent-Ty");

    const closedAfterMs = await connection.closedWithin(10_000);
    expect(closedAfterMs).toBeGreaterThan(800);
    // 1 s, the check's tenth of it, and room for a busy machine.
    expect(closedAfterMs).toBeLessThan(2000);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
  });

  it("cuts a stalled body with 408 within requestTimeout and gives its share of the body budget back", async () => {
    const connection = await connect(impatient);
    connection.write(head("/webhooks/socialboards?token=url-secret", `Content-Length: ${1024 * 1024}\r\n`));
    connection.write('{"CommunityName":"a"');
    await waitFor(async () => (await postStatusChange(impatient)) === 503, { what: "the budget to be held" });

    const closedAfterMs = await connection.closedWithin(10_000);
    expect(closedAfterMs).toBeLessThan(3000);
    expect(connection.received()).toMatch(/^HTTP\/1\.1 408 /);
    await acceptsAWebhook(impatient);
  });
});

async function postStatusChange(relay: TestRelay): Promise<number> {
  const response = await fetch(`${relay.url}/webhooks/socialboards?token=url-secret`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: statusChange,
  });
  return response.status;
}
