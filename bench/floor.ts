/**
 * The floor of this stack, for `npm run bench`: a bare Koa app that reads the body, parses it
 * and does one BullMQ `add` per request before answering 200. Nothing the relay does beyond
 * that (verification, validation, dedupe, logging, metrics) is here; bench code only.
 * With FLOOR_QUEUE=bare it feeds the bare worker (bench/bare-worker.ts) instead, each job an
 * event with the time it was received, for the end-to-end floor.
 */
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import Koa from "koa";
import getRawBody from "raw-body";

const port = Number(process.env.FLOOR_PORT);
const redis = new Redis(process.env.REDIS_URL ?? "", { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
const queueName = process.env.FLOOR_QUEUE ?? "floor";
const queue = new Queue(queueName, { connection: redis, prefix: queueName });
let received = 0;

const app = new Koa();
app.use(async (ctx) => {
  if (ctx.method === "GET") {
    ctx.body = "ok";
    return;
  }
  const raw = await getRawBody(ctx.req, { limit: "1mb" });
  const payload = JSON.parse(raw.toString("utf8")) as unknown;
  received += 1;
  const receivedAt = new Date().toISOString();
  const data = queueName === "bare" ? { event: { receivedAt, raw: payload } } : { receivedAt, payload };
  await queue.add(queueName, data, { removeOnComplete: true });
  ctx.body = { ok: true, received };
});
app.listen(port, "127.0.0.1");
