import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { connectRaw, type RawConnection } from "../support/raw-http.js";
import { waitFor } from "../support/wait.js";
import { startLoad } from "./support/load.js";
import { eventBody, faultScenario, residentMb } from "./support/scenario.js";

const connections = 600;
const declaredBytes = 1024 * 1024;
const sentBytes = 900 * 1024;
/**
 * The default `server.maxBodyBytesInFlight` is 64 MB; what a process adds beyond the bytes it
 * holds (socket buffers, chunks not yet joined, the heap's slack) is generous at 3×. Without a
 * budget, 600 × 900 KB held added about 540 MB.
 */
const boundMb = 200;

describe("clients that hold connections open", () => {
  const fault = faultScenario();

  it("keeps resident memory within the body budget, answers the rest 503, and serves again once they go", async () => {
    const urlToken = `t${randomBytes(12).toString("hex")}`;
    const relay = await fault.relays.start(fault.config({ urlToken }));
    const good = `${relay.url}/webhooks/socialboards?token=${urlToken}`;
    // Warm up with good events, so the memory measured first is that of a relay at work.
    await startLoad({ url: () => good, count: 200, body: eventBody }).done;
    const rssBefore = residentMb(relay.pid);

    // Each declares 1 MB and sends 900 KB: a valid sender that stalls, or one that means harm.
    const head = `POST /webhooks/socialboards?token=${urlToken} HTTP/1.1\r\nHost: relay\r\nContent-Type: application/json\r\nContent-Length: ${declaredBytes}\r\n\r\n`;
    const body = Buffer.alloc(sentBytes, " ");
    const open: RawConnection[] = await Promise.all(
      Array.from({ length: connections }, async () => {
        const connection = await connectRaw(relay.url);
        connection.write(head);
        connection.socket.write(body);
        return connection;
      }),
    );
    // Settled: each was answered, or the relay has taken all it sent (nothing left to write).
    const settled = (c: RawConnection) => c.received() !== "" || c.socket.destroyed || c.socket.writableLength === 0;
    await waitFor(() => open.every(settled), { what: "every connection answered or sent in full", timeoutMs: 60_000 });
    let rssPeak = residentMb(relay.pid);
    // A moment for what is in the kernel's buffers to reach the relay; the peak is what counts.
    for (let i = 0; i < 10; i += 1) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      rssPeak = Math.max(rssPeak, residentMb(relay.pid));
    }
    const refused = open.filter((c) => /^HTTP\/1\.1 503 /.test(c.received()));
    for (const connection of open) connection.socket.destroy();

    // Once the held bodies are gone, an ordinary webhook is taken again.
    const after = await waitFor(
      async () => {
        const response = await fetch(good, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: eventBody(10_000),
        });
        return response.status === 200 && response.status;
      },
      { what: "a webhook answered 200 after the large bodies", timeoutMs: 10_000 },
    );
    const rssAfter = residentMb(relay.pid);
    console.log(
      `[faults] ${connections} bodies of ${sentBytes / 1024} KB (declared ${declaredBytes / 1024} KB): ${refused.length} answered 503, RSS ${rssBefore} MB before, ${rssPeak} MB at peak, ${rssAfter} MB after`,
    );
    expect(after).toBe(200);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((c) => /\r\nRetry-After: \d+\r\n/i.test(c.received()))).toBe(true);
    expect(rssPeak).toBeLessThan(rssBefore + boundMb);
  });

  it("cuts 1,500 half-sent header blocks within the default 10 s headersTimeout, not at Node's 30 s check", async () => {
    const relay = await fault.relays.start(fault.config());
    // Each connection's time is counted from its own first bytes: opening 1,500 takes a while.
    const open = await Promise.all(
      Array.from({ length: 1500 }, async () => {
        const connection = await connectRaw(relay.url);
        connection.write("POST /webhooks/socialboards HTTP/1.1\r\nHost: relay\r\nContent-Ty");
        return Object.assign(connection, { cut: connection.closedWithin(25_000) });
      }),
    );
    const last = Math.max(...(await Promise.all(open.map((c) => c.cut))));
    const cutUnanswered = open.filter((c) => c.received() === "").length;
    console.log(
      `[faults] 1,500 half-sent header blocks: the last cut after ${last} ms; ${1500 - cutUnanswered} answered 408, ${cutUnanswered} closed unanswered past maxConnections`,
    );
    // 10 s, the check's second, and room for a busy machine.
    expect(last).toBeLessThan(13_000);
    expect(open.filter((c) => /^HTTP\/1\.1 408 /.test(c.received())).length).toBe(1500 - cutUnanswered);
  });
});
