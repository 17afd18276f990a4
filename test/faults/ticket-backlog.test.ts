import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import { describe, expect, it } from "vitest";
import { closeServer, listen } from "../support/listen.js";
import { waitFor } from "../support/wait.js";
import { startLoad } from "./support/load.js";
import { faultScenario, markerOf, report } from "./support/scenario.js";

const events = 10_000;
const statusChange = readFileSync(
  new URL("../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);
/** Event `n`: a status change of one and the same ticket, titled `fault-<n>`. */
const sameTicket = (n: number) => statusChange.replace("Cat is ill", `fault-${n}`);

/** An HTTP target that notes the order events arrive in, and when the first and last came. */
async function startOrderSink() {
  const order: number[] = [];
  const times = { first: 0, last: 0 };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const marker = markerOf(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      if (marker !== undefined) {
        order.push(marker);
        times.first ||= Date.now();
        times.last = Date.now();
      }
      response.end('{"ok":true}');
    });
  });
  return { url: await listen(server), order, times, close: () => closeServer(server) };
}

describe("one ticket's backlog of 10,000 stored while no worker ran", () => {
  const fault = faultScenario();

  it("is delivered in the order received once a worker starts, one after another without stalling", async () => {
    const sink = await startOrderSink();
    try {
      const yaml = `
server: { port: 0, host: 127.0.0.1 }
redis: { url: "${fault.redis.url}", prefix: onebacklog }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/crm" }
routes:
  - { name: all, to: [crm] }
`;
      const ingest = await fault.relays.start(yaml, "ingest");
      // One connection: the relay receives them in the order they are numbered.
      const load = startLoad({
        url: () => `${ingest.url}/webhooks/socialboards`,
        count: events,
        connections: 1,
        body: sameTicket,
      });
      await load.done;
      await fault.relays.start(yaml, "worker");
      await waitFor(() => sink.order.length >= load.accepted.size, {
        what: `${load.accepted.size} deliveries of one ticket (have ${sink.order.length})`,
        timeoutMs: 170_000,
        intervalMs: 500,
      });
      const perSecond = Math.round((sink.order.length - 1) / ((sink.times.last - sink.times.first) / 1000));
      const outOfOrder = sink.order.filter((n, index) => index > 0 && n < (sink.order[index - 1] ?? 0)).length;
      await report(
        "one ticket's backlog of 10,000",
        load,
        events,
        {
          accepted: load.accepted.size,
          missing: { "/crm": load.accepted.size - new Set(sink.order).size },
          duplicates: sink.order.length - new Set(sink.order).size,
        },
        `drained at ${perSecond}/s, ${outOfOrder} out of order`,
      );
      expect(load.accepted.size).toBe(events);
      expect(outOfOrder).toBe(0);
      expect(new Set(sink.order).size).toBe(events);
    } finally {
      await sink.close();
    }
  }, 240_000);
});
