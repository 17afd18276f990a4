/**
 * `npm run bench`: how fast the relay takes webhooks, and how fast it delivers them.
 * Starts its own redis-server and an HTTP sink on free ports, runs the relay in this process,
 * loads it with autocannon and prints figures. Nothing here passes or fails: it measures.
 *
 *   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 npm run bench
 */
import { readFileSync } from "node:fs";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import { deliveryQueueName, inboundQueueName } from "../src/queue/jobs.js";
import { startHttpSink } from "../test/support/http-sink.js";
import { startRedisServer } from "../test/support/redis.js";
import { startTestRelay } from "../test/support/relay.js";

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const body = readFileSync(new URL("../test/fixtures/socialboards/ticket_status_change.json", import.meta.url), "utf8");

const redis = await startRedisServer();
const sink = await startHttpSink();
const prefix = "bench";

async function measureIngest(role: "ingest" | "all") {
  const relay = await startTestRelay(
    `
redis: { url: "${redis.url}", prefix: ${prefix}${role} }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sink.url}/hooks" }
routes:
  - to: [crm]
`,
    { role },
  );
  // Each request a body of its own: the same body twice is the platform's retry, which the
  // relay stores once (dedupe), and would measure nothing past the first.
  let sent = 0;
  const result = await autocannon({
    url: `${relay.url}/webhooks/socialboards`,
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
    connections,
    duration: seconds,
    setupClient(client) {
      sent += 1;
      client.setBody(body.replace("Cat is ill", `Cat ${sent}`));
      client.on("response", () => {
        sent += 1;
        client.setBody(body.replace("Cat is ill", `Cat ${sent}`));
      });
    },
  });
  return { relay, result };
}

function printIngest(label: string, result: autocannon.Result) {
  const ok = result["2xx"];
  console.log(
    `${label}: ${Math.round(result.requests.average)} webhooks/s (${ok} acknowledged, ${result.non2xx} refused, ${result.errors} errors), ` +
      `latency p50 ${result.latency.p50} ms, p99 ${result.latency.p99} ms, max ${result.latency.max} ms`,
  );
}

console.log(`node ${process.version}, ${connections} connections, ${seconds} s per run, payload ${body.length} bytes`);

// 1. Ingest alone: HTTP parse, validate, one Redis write, 200.
{
  const { relay, result } = await measureIngest("ingest");
  printIngest("ingest only (role ingest)", result);
  await relay.close();
}

// 2. Ingest with workers in the same process, then how long the backlog takes to reach the sink.
{
  sink.requests.length = 0;
  const { relay, result } = await measureIngest("all");
  printIngest("ingest + workers (role all)", result);
  const accepted = result["2xx"];
  const started = Date.now();
  const inbound = new Queue(inboundQueueName, { connection: { url: redis.url }, prefix: `${prefix}all` });
  const deliveries = new Queue(deliveryQueueName, { connection: { url: redis.url }, prefix: `${prefix}all` });
  while (sink.requests.length < accepted && Date.now() - started < 120_000) {
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  const drained = (Date.now() - started) / 1000;
  const total = (seconds + drained).toFixed(1);
  // autocannon does not count the requests still in flight when it stops, but the relay stored
  // them, so a few more deliveries than acknowledgements is expected; duplicates are not.
  const unique = new Set(sink.requests.map((request) => (request.json as { deliveryId?: string }).deliveryId)).size;
  console.log(
    `delivered ${unique} distinct events for ${accepted} counted acknowledgements (${sink.requests.length - unique} duplicates); ` +
      `backlog drained ${drained.toFixed(1)} s after load stopped (${Math.round(sink.requests.length / (seconds + drained))} deliveries/s over ${total} s)`,
  );
  await Promise.all([inbound.close(), deliveries.close()]);
  await relay.close();
}

await sink.close();
await redis.stop();
