import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type LoadRequest, startLoad } from "./support/load.js";
import { eventBody, faultScenario, report, residentMb } from "./support/scenario.js";

const badRequests = 10_000;
/** One good event after every ten bad requests. */
const goodEvery = 11;
const total = badRequests + Math.ceil(badRequests / (goodEvery - 1));
/** A 10 MB body costs the sender 10 MB; one bad request in 250 is one. */
const hugeEvery = 250;

describe("ten thousand bad requests interleaved with good ones", () => {
  const fault = faultScenario();

  it("answers every bad one its 4xx, delivers every good one, and stays within its memory", async () => {
    const urlToken = `t${randomBytes(12).toString("hex")}`;
    const secret = `whsec_${randomBytes(24).toString("base64")}`;
    const yaml = fault.config({
      urlToken,
      moreSources: `  signed: { type: generic, signature: standard-webhooks, secret: "${secret}" }`,
    });
    const relay = await fault.relays.start(yaml);
    const good = `${relay.url}/webhooks/socialboards?token=${urlToken}`;
    const valid = eventBody(0);
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const huge = Buffer.alloc(10 * 1024 * 1024, " ");
    huge.write(valid);
    const invalidUtf8 = Buffer.concat([
      Buffer.from(valid.slice(0, valid.indexOf("fault-0"))),
      Buffer.from([0xff, 0xfe, 0xc3]),
      Buffer.from(valid.slice(valid.indexOf("fault-0"))),
    ]);
    const signedHeaders = {
      "webhook-id": "msg_1",
      "webhook-timestamp": String(Math.floor(Date.now() / 1000)),
      "webhook-signature": `v1,${randomBytes(32).toString("base64")}`,
    };
    const kinds: { name: string; status: number; request: () => LoadRequest }[] = [
      { name: "truncated JSON", status: 400, request: () => ({ url: good, body: valid.slice(0, valid.length / 2) }) },
      {
        name: "wrong types",
        status: 400,
        request: () => ({ url: good, body: '{"CommunityName": 5, "EventType": [], "Events": "x"}' }),
      },
      { name: "nested 100,000 deep", status: 400, request: () => ({ url: good, body: deep }) },
      {
        name: "wrong content type",
        status: 415,
        request: () => ({
          url: `${relay.url}/webhooks/signed`,
          headers: { ...signedHeaders, "content-type": "text/plain" },
          body: valid,
        }),
      },
      { name: "invalid UTF-8", status: 400, request: () => ({ url: good, body: invalidUtf8 }) },
      { name: "unknown source", status: 404, request: () => ({ url: `${relay.url}/webhooks/nope`, body: valid }) },
      {
        name: "wrong token",
        status: 401,
        request: () => ({ url: `${relay.url}/webhooks/socialboards?token=wrong`, body: valid }),
      },
      {
        name: "wrong signature",
        status: 401,
        request: () => ({ url: `${relay.url}/webhooks/signed`, headers: signedHeaders, body: valid }),
      },
    ];
    // The relay answers 413 from the Content-Length and closes the connection; a sender still
    // writing its 10 MB may see that as a reset. The relay's own counter shows every 413.
    const tooLarge = { name: "10 MB", status: 413, request: () => ({ url: good, body: huge }) };
    const kindOf = (n: number) => {
      const bad = n - Math.floor(n / goodEvery) - 1;
      return bad % hugeEvery === 0 ? tooLarge : (kinds[bad % kinds.length] as (typeof kinds)[number]);
    };
    const isGood = (n: number) => n % goodEvery === 0;

    // Warm up with good events, so the memory measured first is that of a relay at work.
    const warmUp = startLoad({ url: () => good, count: 200, body: (n) => eventBody(total + n) });
    await warmUp.done;
    const rssBefore = residentMb(relay.pid);

    const wrong = new Map<string, { expected: number; got: Map<number | "error", number> }>();
    const perKind = new Map<string, number>();
    const load = startLoad({
      url: () => good,
      count: total,
      connections: 16,
      body: (n) => (isGood(n) ? eventBody(n) : kindOf(n).request()),
      onAnswer(n, status) {
        if (isGood(n)) return;
        const kind = kindOf(n);
        perKind.set(kind.name, (perKind.get(kind.name) ?? 0) + 1);
        if (status === kind.status || (kind === tooLarge && status === "error")) return;
        const tally = wrong.get(kind.name) ?? { expected: kind.status, got: new Map() };
        tally.got.set(status, (tally.got.get(status) ?? 0) + 1);
        wrong.set(kind.name, tally);
      },
    });
    await load.done;
    const goodOnes = new Set([...load.accepted].filter(isGood));
    const result = await fault.waitForEveryDelivery(load, goodOnes);
    const rssAfter = residentMb(relay.pid);
    const metrics = await (await fetch(`${relay.url}/metrics`)).text();
    const answered413 = Number(
      /^ticket_relay_webhooks_total\{source="socialboards",status="413"\} (\d+)/m.exec(metrics)?.[1],
    );
    await report(
      "10,000 bad requests",
      load,
      total,
      result,
      `bad by kind ${JSON.stringify(Object.fromEntries(perKind))}, RSS ${rssBefore} MB before, ${rssAfter} MB after`,
    );
    expect(Object.fromEntries([...wrong].map(([name, tally]) => [name, Object.fromEntries(tally.got)]))).toEqual({});
    expect(answered413).toBe(perKind.get(tooLarge.name));
    expect(goodOnes.size).toBe(Math.ceil(total / goodEvery));
    expect(result.missing).toEqual({ "/a": 0, "/b": 0 });
    // Generous: what matters is that bad requests leave nothing behind, not a number.
    expect(rssAfter).toBeLessThan(rssBefore + 300);
  });
});
