import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { HttpTargetConfig } from "../src/config/schema.js";
import type { RelayEvent } from "../src/events.js";
import { describeEvent } from "../src/messages/describe.js";
import { createHttpTarget } from "../src/targets/http.js";
import { type DeliveryContext, PermanentFailure, RetryLater, TargetGone } from "../src/targets/target.js";
import { type HttpSink, startHttpSink } from "./support/http-sink.js";

const event: RelayEvent = {
  id: "rcpt_1.0",
  source: "billing",
  sourceType: "generic",
  type: "invoice.paid",
  known: true,
  receivedAt: "2026-11-24T10:00:00.000Z",
  raw: { type: "invoice.paid" },
};
const context: DeliveryContext = { deliveryId: "rcpt_1.0.crm", attempt: 1, route: "all", event };
const message = describeEvent(event);

const configFor = (url: string, extra: Partial<HttpTargetConfig> = {}): HttpTargetConfig => ({
  type: "http",
  url,
  method: "POST",
  headers: {},
  timeout: 2000,
  concurrency: 10,
  allowPrivateNetwork: true,
  signingSecret: undefined,
  ...extra,
});

/** One HTTP target against real local servers, without a queue: what it sends, and how it fails. */
describe("the HTTP target", () => {
  let sink: HttpSink;
  let elsewhere: HttpSink;

  beforeAll(async () => {
    [sink, elsewhere] = await Promise.all([startHttpSink(), startHttpSink()]);
  });
  beforeEach(() => {
    sink.reset();
    elsewhere.reset();
  });
  afterAll(async () => {
    await Promise.all([sink?.close(), elsewhere?.close()]);
  });

  /** Sends once with a target of its own, and closes the target whatever happens. */
  async function sendOnce(config: HttpTargetConfig) {
    const target = createHttpTarget("crm", config);
    try {
      return await target.send(message, context);
    } finally {
      await target.close?.();
    }
  }
  const failureOf = (config: HttpTargetConfig) =>
    sendOnce(config).then(
      () => expect.unreachable("the delivery should have failed"),
      (error: Error) => error,
    );

  it("sends the delivery id as webhook-id, the configured headers, and no signature without a secret", async () => {
    const receipt = await sendOnce(configFor(`${sink.url}/hooks`, { headers: { Authorization: "Bearer t0ken" } }));
    expect(receipt).toEqual({ detail: "HTTP 200", where: { status: 200 } });
    const [request] = sink.requests;
    expect(request?.headers).toMatchObject({
      "webhook-id": "rcpt_1.0.crm",
      "content-type": "application/json",
      "user-agent": "ticket-relay/0.1",
      authorization: "Bearer t0ken",
    });
    expect(request?.headers["webhook-signature"]).toBeUndefined();
    expect(request?.json).toMatchObject({ deliveryId: "rcpt_1.0.crm", route: "all", event: { type: "invoice.paid" } });
  });

  it("reuses kept-alive connections instead of opening one per delivery", async () => {
    const target = createHttpTarget("crm", configFor(`${sink.url}/hooks`));
    try {
      for (let i = 0; i < 10; i++) await target.send(message, context);
    } finally {
      await target.close?.();
    }
    expect(sink.requests).toHaveLength(10);
    // The pool may open a second connection while the first is still being released; not ten.
    expect(sink.connections).toBeLessThanOrEqual(2);
  });

  it("does not follow a redirect: a 302 fails for good and where it points is never asked", async () => {
    sink.respondWith({ status: 302, headers: { location: `${elsewhere.url}/new` } });
    const failure = await failureOf(configFor(`${sink.url}/old`));
    expect(failure).toBeInstanceOf(PermanentFailure);
    expect(failure).not.toBeInstanceOf(TargetGone);
    expect(failure.message).toMatch(/^HTTP crm \(POST http:\/\/127\.0\.0\.1:\d+\/old\) answered 302: .* redirects are/);
    expect(elsewhere.connections).toBe(0);
  });

  it("says a receiver that answers 410 Gone is gone for good", async () => {
    sink.respondWith({ status: 410, body: "this hook was deleted" });
    const failure = await failureOf(configFor(`${sink.url}/hooks`));
    expect(failure).toBeInstanceOf(TargetGone);
    expect(failure.message).toMatch(/answered 410: this hook was deleted$/);
  });

  it("waits as long as a 503 asks with Retry-After, and retries a 500 without waiting for its header", async () => {
    sink.respondWith(
      { status: 503, headers: { "retry-after": "42" } },
      { status: 500, headers: { "retry-after": "42" } },
    );
    const unavailable = await failureOf(configFor(`${sink.url}/hooks`));
    const broken = await failureOf(configFor(`${sink.url}/hooks`));
    expect(unavailable).toBeInstanceOf(RetryLater);
    expect((unavailable as RetryLater).afterMs).toBe(42_000);
    expect(broken).toBeInstanceOf(RetryLater);
    expect((broken as RetryLater).afterMs).toBeUndefined();
  });

  it("refuses a loopback address without connecting unless allowPrivateNetwork is set", async () => {
    const port = new URL(sink.url).port;
    const byAddress = await failureOf(configFor(`${sink.url}/hooks`, { allowPrivateNetwork: false }));
    const byName = await failureOf(configFor(`http://localhost:${port}/hooks`, { allowPrivateNetwork: false }));
    expect(byAddress).toBeInstanceOf(PermanentFailure);
    expect(byAddress.message).toBe(
      `HTTP crm (POST ${sink.url}/hooks): refused: 127.0.0.1 is a loopback address; set allowPrivateNetwork: true to allow`,
    );
    expect(byName).toBeInstanceOf(PermanentFailure);
    expect(byName.message).toMatch(
      /: refused: localhost resolves to (127\.0\.0\.1|::1), a loopback address; set allowPrivateNetwork: true to allow$/,
    );
    expect(sink.connections).toBe(0);
  });

  it("gives up on a receiver at its timeout, whether the answer or the rest of its body never comes", async () => {
    // Two receivers that keep the connection open: one never answers, one answers 200 and
    // then sends a byte every 50 ms for ever.
    const drips = new Set<NodeJS.Timeout>();
    const server = createServer((request, response) => {
      if (request.url === "/silent") return;
      response.writeHead(200, { "content-type": "text/plain" });
      const drip = setInterval(() => response.write("."), 50);
      drips.add(drip);
      response.on("close", () => clearInterval(drip));
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const silent = await failureOf(configFor(`http://127.0.0.1:${port}/silent`, { timeout: 300 }));
      expect(silent).toBeInstanceOf(RetryLater);
      expect(silent.message).toMatch(/no answer within 300 ms/);
      // The status came in time, so the delivery counts; the body is cut off at the deadline.
      expect(await sendOnce(configFor(`http://127.0.0.1:${port}/dripping`, { timeout: 300 }))).toEqual({
        detail: "HTTP 200",
        where: { status: 200 },
      });
    } finally {
      for (const drip of drips) clearInterval(drip);
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
