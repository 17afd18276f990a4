/**
 * The delivery floor, for `npm run bench`: a bare BullMQ worker that posts each job's data as
 * JSON through an undici Pool to the sink, and nothing else. Same queue library, same
 * concurrency, same sink and job size as the relay's delivery worker; bench code only.
 */
import { Worker } from "bullmq";
import { Pool } from "undici";

const sink = new URL(process.env.SINK_URL ?? "");
const pool = new Pool(sink.origin);
const worker = new Worker(
  "bare",
  async (job) => {
    const { event, ...rest } = job.data as { event: { raw?: unknown } };
    const { raw, ...described } = event;
    const response = await pool.request({
      path: "/bare",
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ deliveryId: job.id, ...rest, event: described, payload: raw }),
    });
    await response.body.text();
    if (response.statusCode >= 300) throw new Error(`sink answered ${response.statusCode}`);
  },
  {
    connection: { url: process.env.REDIS_URL ?? "", maxRetriesPerRequest: null },
    prefix: "bare",
    concurrency: Number(process.env.CONCURRENCY ?? 10),
  },
);
worker.on("error", (error) => console.error(error.message));
process.once("SIGTERM", () => {
  void worker.close().then(() => pool.close().then(() => process.exit(0)));
});
console.log("bare worker started");
