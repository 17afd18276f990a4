import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { RedisConnector } from "../../src/redis/connector.js";
import { type HttpSink, startHttpSink } from "../support/http-sink.js";
import { startTestRelay, type TestRelay, uniquePrefix } from "../support/relay.js";
import { postUntilAccepted, scaleConfig, ticketEvent } from "./support/burst.js";
import { makeTlsFiles, type RedisProcess, startTlsRedis, type TlsFiles } from "./support/topologies.js";

describe("Redis over TLS (rediss://)", () => {
  let files: TlsFiles;
  let redis: RedisProcess & { url: string };
  let sink: HttpSink;
  let relay: TestRelay | undefined;

  beforeAll(async () => {
    files = await makeTlsFiles();
    [redis, sink] = await Promise.all([startTlsRedis(files), startHttpSink()]);
  }, 60_000);

  afterAll(async () => {
    await relay?.close();
    await sink?.close();
    await redis?.kill();
  });

  it("stores and delivers webhooks through a Redis that speaks only TLS, with the CA and client certificate from files", async () => {
    const yaml = scaleConfig(
      `url: "${redis.url}"
prefix: ${uniquePrefix()}
tls: { ca: "${files.ca}", cert: "${files.clientCert}", key: "${files.clientKey}" }`,
      sink.url,
    );
    relay = await startTestRelay(yaml);
    for (const replyId of [1, 2, 3])
      expect(await postUntilAccepted(relay.url, ticketEvent(7100001, replyId))).toBe(true);
    const requests = await sink.waitForRequests(3);
    expect(requests.map((request) => request.path)).toEqual(["/hooks", "/hooks", "/hooks"]);
  });

  it("refuses a server whose certificate the configured CA did not sign", async () => {
    const connection = new RedisConnector({
      url: redis.url,
      tls: { ca: files.otherCa, cert: files.clientCert, key: files.clientKey },
    }).connect("command");
    const errors: Error[] = [];
    connection.on("error", (error) => errors.push(error));
    await expect(connection.connect()).rejects.toThrow();
    expect(errors.map((error) => error.message).join("\n")).toMatch(/certificate/i);
    connection.disconnect();
  });

  it("refuses the server's certificate for a name it was not made for (servername)", async () => {
    const connection = new RedisConnector({
      url: redis.url,
      tls: { ca: files.ca, cert: files.clientCert, key: files.clientKey, servername: "redis.example.com" },
    }).connect("command");
    const errors: Error[] = [];
    connection.on("error", (error) => errors.push(error));
    await expect(connection.connect()).rejects.toThrow();
    expect(errors.map((error) => error.message).join("\n")).toMatch(/redis\.example\.com/);
    connection.disconnect();
  });
});
