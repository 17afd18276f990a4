/**
 * The bench's HTTP sink, in a process of its own: answers 200 to every POST and records when
 * each arrived, against the `receivedAt` in its JSON body (the relay's `event.receivedAt`, or
 * the bare worker's own), so receipt-to-delivery latency is measured where the delivery lands.
 * It also notes the order each ticket's deliveries arrived in: the relay delivers a ticket's
 * events in the order it received them, and an event's id starts with its receipt id, a UUIDv7
 * that sorts in that order (src/http/receipt-id.ts), so an arrival whose event id sorts before
 * the last one seen for its ticket came out of order. GET /stats reads the figures, POST /reset
 * forgets them.
 */
import { createServer } from "node:http";

const port = Number(process.env.SINK_PORT ?? 0);
let latencies: number[] = [];
let ids = new Set<string>();
let count = 0;
let first = 0;
let last = 0;
let lastEventOfTicket = new Map<string, string>();
let outOfOrder = 0;
/** The longest time between two arrivals: a drain that stalls and resumes shows here. */
let longestGapMs = 0;

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    const sorted = Float64Array.from(latencies).sort();
    const stats = {
      count,
      distinct: ids.size,
      first,
      last,
      p50: percentile(Array.from(sorted), 50),
      p99: percentile(Array.from(sorted), 99),
      max: sorted.length ? sorted[sorted.length - 1] : 0,
      outOfOrder,
      tickets: lastEventOfTicket.size,
      longestGapMs,
    };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
    return;
  }
  if (request.method === "POST" && request.url === "/reset") {
    latencies = [];
    ids = new Set();
    count = 0;
    first = 0;
    last = 0;
    lastEventOfTicket = new Map();
    outOfOrder = 0;
    longestGapMs = 0;
    response.writeHead(200).end("{}");
    return;
  }
  const chunks: Buffer[] = [];
  request.on("data", (chunk: Buffer) => chunks.push(chunk));
  request.on("end", () => {
    const now = Date.now();
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      deliveryId?: string;
      receivedAt?: string;
      event?: { receivedAt?: string; id?: string; ticketId?: string | number };
    };
    const receivedAt = body.event?.receivedAt ?? body.receivedAt;
    if (receivedAt) latencies.push(now - Date.parse(receivedAt));
    if (body.deliveryId) ids.add(body.deliveryId);
    // `<receiptId>.<index>`: the receipt id orders the webhooks, the index the events of one.
    const eventId = body.event?.id;
    if (eventId && body.event?.ticketId !== undefined) {
      const ticket = String(body.event.ticketId);
      const before = lastEventOfTicket.get(ticket);
      if (before !== undefined && eventId < before) outOfOrder += 1;
      else lastEventOfTicket.set(ticket, eventId);
    }
    count += 1;
    if (first === 0) first = now;
    else longestGapMs = Math.max(longestGapMs, now - last);
    last = now;
    response.writeHead(200, { "content-type": "application/json" }).end('{"ok":true}');
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, "127.0.0.1", () => {
  const address = server.address();
  console.log(JSON.stringify({ ready: true, port: typeof address === "object" && address ? address.port : port }));
});
