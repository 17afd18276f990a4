/**
 * The ticket-backlog bench's HTTP sink, in a process of its own: bench/sink.ts, plus the order
 * deliveries of each ticket arrived in. The relay delivers a ticket's events in the order it
 * received them, and an event's id starts with its receipt id, a UUIDv7 that sorts in that order
 * (src/http/receipt-id.ts); an arrival whose receipt id sorts before the last one seen for its
 * ticket came out of order. GET /stats reads the figures, POST /reset forgets them.
 */
import { createServer } from "node:http";

const port = Number(process.env.SINK_PORT ?? 0);
let lastReceiptOfTicket = new Map<string, string>();
let ids = new Set<string>();
let count = 0;
let outOfOrder = 0;
let first = 0;
let last = 0;
/** The longest time between two arrivals: a drain that stalls and resumes shows here. */
let longestGapMs = 0;

const server = createServer((request, response) => {
  if (request.method === "GET" && request.url === "/stats") {
    const stats = {
      count,
      distinct: ids.size,
      outOfOrder,
      tickets: lastReceiptOfTicket.size,
      first,
      last,
      longestGapMs,
    };
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(stats));
    return;
  }
  if (request.method === "POST" && request.url === "/reset") {
    lastReceiptOfTicket = new Map();
    ids = new Set();
    count = 0;
    outOfOrder = 0;
    first = 0;
    last = 0;
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
      event?: { id?: string; ticketId?: string | number };
    };
    // `<receiptId>.<index>`: the receipt id alone orders the webhooks, the index the events of one.
    const eventId = body.event?.id ?? "";
    const ticket = String(body.event?.ticketId ?? "");
    const before = lastReceiptOfTicket.get(ticket);
    if (before !== undefined && eventId < before) outOfOrder += 1;
    else lastReceiptOfTicket.set(ticket, eventId);
    if (body.deliveryId) ids.add(body.deliveryId);
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
