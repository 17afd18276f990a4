/**
 * `npm run bench`: how fast the relay takes webhooks and delivers them, each figure beside
 * the floor of its stack measured in the same run, so the ratio holds when the machine is busy.
 * Starts its own redis-server on a free port, an HTTP sink, the relay, a bare Koa + BullMQ app
 * and a bare BullMQ worker as processes of their own, loads them with autocannon and prints
 * the figures, then writes them to bench/results.json. Nothing here passes or fails.
 *
 * The defaults are a quick run (about three and a half minutes); bench/README.md has the full one.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { join } from "node:path";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { parseConfig } from "../src/config/load.js";
import { type DeliveryJob, deliveryJobOptions, deliveryQueueName } from "../src/queue/jobs.js";
import { deliveryPolicyFor } from "../src/queue/retry.js";
import { buildParts } from "../src/relay-parts.js";
import { freePort } from "../test/support/free-port.js";
import { startRedisServer } from "../test/support/redis.js";
import { runScaleOut, scaleSettingsFromEnv } from "./scale-out.js";
import { answers, type BenchChild, lastLines, sleep, startChild, startedLogged } from "./support/child.js";
import { type SinkStats, startSinkProcess } from "./support/sink-process.js";

const numberFrom = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const listFrom = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(",").filter(Boolean).map(Number);
const settings = {
  connections: numberFrom("BENCH_CONNECTIONS", 32),
  ingestSeconds: numberFrom("BENCH_INGEST_SECONDS", 5),
  ingestRounds: numberFrom("BENCH_INGEST_ROUNDS", 3),
  rates: listFrom("BENCH_RATES", "500,2000"),
  rateSeconds: numberFrom("BENCH_RATE_SECONDS", 5),
  /** A busy morning's backlog, and RSS read after 10k and 100k events: long enough to show a leak. */
  backlog: numberFrom("BENCH_BACKLOG", 100_000),
  /** Drains of the backlog by each side, alternating which goes first; the best of each is kept. */
  backlogRounds: numberFrom("BENCH_BACKLOG_ROUNDS", 2),
  /** Events delivered before RSS is read: the first and the last reading. */
  rssEvents: listFrom("BENCH_RSS_EVENTS", "10000,100000"),
  /** `workers.concurrency` for the relay and the bare worker; unset: the relay's default. */
  concurrency: process.env.BENCH_CONCURRENCY ? Number(process.env.BENCH_CONCURRENCY) : undefined,
  only: process.env.BENCH_ONLY?.split(","),
  scale: scaleSettingsFromEnv(),
};
const runs = (part: string) => !settings.only || settings.only.includes(part);

const root = new URL("..", import.meta.url).pathname;
const fixture = readFileSync(join(root, "test/fixtures/socialboards/ticket_status_change.json"), "utf8");
const dir = mkdtempSync(join(tmpdir(), "relay-bench-"));
const redisServer = await startRedisServer();
const redis = new Redis(redisServer.url);
const children: BenchChild[] = [];
const track = (child: BenchChild) => {
  children.push(child);
  return child;
};

const sinkProcess = await startSinkProcess(dir);
const sinkUrl = sinkProcess.url;
const sink = track(sinkProcess.child);
const sinkStats = sinkProcess.stats;
const resetSink = sinkProcess.reset;

async function waitForSink(count: number, what: string): Promise<SinkStats> {
  const started = Date.now();
  let last = await sinkStats();
  let lastProgress = Date.now();
  while (last.count < count) {
    await sleep(100);
    const now = await sinkStats();
    if (now.count > last.count) lastProgress = Date.now();
    last = now;
    if (Date.now() - lastProgress > 30_000) {
      console.log(`  ${what}: stuck at ${last.count} of ${count} after ${Math.round((Date.now() - started) / 1000)} s`);
      break;
    }
  }
  return last;
}

function relayYaml(prefix: string): string {
  const workers = settings.concurrency
    ? `workers: { concurrency: ${settings.concurrency}, opsPort: 0 }`
    : "workers: { opsPort: 0 }";
  return `
redis: { url: "${redisServer.url}", prefix: ${prefix} }
allowPrivateNetwork: true
${workers}
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: none }
targets:
  crm: { type: http, url: "${sinkUrl}/hooks" }
routes:
  - name: everything
    to: [crm]
`;
}

/** `name` tells apart several processes of one role on one prefix (their config and log files). */
async function startRelay(role: "all" | "ingest" | "worker", prefix: string, name: string = role) {
  const port = await freePort();
  const file = join(dir, `${prefix}-${name}.yaml`);
  writeFileSync(file, `server: { port: ${port}, host: 127.0.0.1 }\n${relayYaml(prefix)}`);
  const logFile = join(dir, `${prefix}-${name}.log`);
  const child = await startChild(["src/main.ts", "serve", "--config", file, "--role", role], {
    env: { LOG_LEVEL: "info", OPS_PORT: "0" },
    // BENCH_PROFILE=dir: a CPU profile of each relay process, written there when it stops.
    nodeOptions: process.env.BENCH_PROFILE ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_PROFILE] : [],
    logFile,
    ready: async () =>
      // A worker with a backlog waiting may log thousands of deliveries before the first look.
      role === "worker" ? startedLogged(logFile) : answers(`http://127.0.0.1:${port}/readyz`),
    what: `the relay (role ${role})`,
  });
  return { child, url: `http://127.0.0.1:${port}` };
}

// Each request a body of its own: the same body twice is the platform's retry, which the relay
// stores once (dedupe) and would measure nothing past the first. And each a ticket of its own,
// as in a bulk status change: the events of one ticket are delivered one after another.
const runId = Date.now().toString(36);
let bodies = 0;
const nextBody = () => {
  bodies += 1;
  return fixture.replace("Cat is ill", `Cat ${runId} ${bodies}`).replaceAll("4478963", String(10_000_000 + bodies));
};
function load(
  url: string,
  options: { duration?: number; amount?: number; overallRate?: number; connections?: number },
) {
  return autocannon({
    url,
    method: "POST",
    headers: { "content-type": "application/json" },
    body: nextBody(),
    connections: settings.connections,
    ...options,
    setupClient(client) {
      client.setBody(nextBody());
      client.on("response", () => client.setBody(nextBody()));
    },
  });
}

/**
 * `amount` requests at `rate` a second. autocannon's `overallRate` lets each connection send
 * its share of a second at once, at the start of each second; ten instances started 100 ms
 * apart, each with a tenth of the rate, make that a burst every 100 ms instead, closer to
 * webhooks arriving one by one.
 */
async function offer(url: string, amount: number, rate: number) {
  const slices = 10;
  const connections = Math.max(1, Math.floor(settings.connections / slices));
  const results = await Promise.all(
    Array.from({ length: slices }, async (_, index) => {
      await sleep(index * (1000 / slices));
      return autocannon({
        url,
        method: "POST",
        headers: { "content-type": "application/json" },
        body: nextBody(),
        connections,
        amount: Math.round(amount / slices),
        overallRate: Math.max(1, Math.round(rate / slices)),
        setupClient(client) {
          client.setBody(nextBody());
          client.on("response", () => client.setBody(nextBody()));
        },
      });
    }),
  );
  const sum = (pick: (result: autocannon.Result) => number) =>
    results.reduce((total, result) => total + pick(result), 0);
  return {
    "2xx": sum((result) => result["2xx"]),
    non2xx: sum((result) => result.non2xx),
    errors: sum((result) => result.errors),
  };
}

const round = (value: number, places = 0) => Math.round(value * 10 ** places) / 10 ** places;

/** CPU time redis-server has used so far, in ms. */
async function redisCpuMs(): Promise<number> {
  const info = await redis.info("cpu");
  const seconds = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(info)?.[1] ?? 0);
  return (seconds("used_cpu_user") + seconds("used_cpu_sys")) * 1000;
}

/**
 * CPU used per event by a process and by Redis between `start()` and `per(count)`, in ms: on
 * a machine shared with other work, a steadier figure than events per second.
 */
/** CPU of these processes (summed) and of Redis from now, per event when asked. */
async function cpuMeter(...measured: BenchChild[]) {
  const cpuMs = () => measured.reduce((sum, child) => sum + child.cpuMs(), 0);
  const processAt = cpuMs();
  const redisAt = await redisCpuMs();
  return {
    async per(count: number) {
      const processMs = cpuMs() - processAt;
      const redisMs = (await redisCpuMs()) - redisAt;
      return { processMs: round(processMs / count, 3), redisMs: round(redisMs / count, 3) };
    },
  };
}
const cpuText = (cpu: { processMs: number; redisMs: number }) =>
  `CPU ${cpu.processMs} ms + Redis ${cpu.redisMs} ms per event`;
const results: Record<string, unknown> = {
  at: new Date().toISOString(),
  node: process.version,
  cpus: cpus().length,
  settings: {
    ...settings,
    concurrency: concurrencyOfBoth(),
  },
};
console.log(
  `node ${process.version}, ${cpus().length} cpus, ${settings.connections} connections, payload ${fixture.length} bytes; ` +
    "each relay figure beside its floor, measured in the same run",
);

/** Deliveries in flight per worker, the relay's and the bare one's alike. */
function concurrencyOfBoth(): number {
  return settings.concurrency ?? parseConfig(relayYaml("x"), "bench.yaml", {}).workers.concurrency;
}

/**
 * The bare Koa + BullMQ app (bench/floor.ts); with `queue: "bare"` it feeds the bare worker.
 * `name` tells its log apart when it runs for more than one part.
 */
async function startFloorApp(name: string, queue?: "bare") {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child = await startChild(["bench/floor.ts"], {
    env: { FLOOR_PORT: String(port), REDIS_URL: redisServer.url, ...(queue && { FLOOR_QUEUE: queue }) },
    logFile: join(dir, `${name}.log`),
    ready: () => answers(url),
    what: "the floor app",
  });
  return { child, url };
}

/** The bare BullMQ worker (bench/bare-worker.ts), posting to the sink at the relay's concurrency. */
function startBareWorker(name: string) {
  const logFile = join(dir, `${name}.log`);
  return startChild(["bench/bare-worker.ts"], {
    env: { SINK_URL: sinkUrl, REDIS_URL: redisServer.url, CONCURRENCY: String(concurrencyOfBoth()) },
    logFile,
    ready: async () => lastLines(logFile).includes("bare worker started"),
    what: "the bare worker",
  });
}

// 1. Ingest: the relay (role ingest) and a bare Koa app doing one BullMQ add per request, in
//    alternating rounds; the best round of each.
if (runs("ingest")) {
  const relay = await startRelay("ingest", "ingest");
  const { child: floor, url: floorUrl } = await startFloorApp("floor");
  type Round = { result: autocannon.Result; cpu: { processMs: number; redisMs: number } };
  const best: { relay?: Round; floor?: Round } = {};
  const leastCpu: { relay?: Round["cpu"]; floor?: Round["cpu"] } = {};
  for (let index = 0; index < settings.ingestRounds; index += 1) {
    for (const side of ["relay", "floor"] as const) {
      const url = side === "relay" ? `${relay.url}/webhooks/socialboards` : `${floorUrl}/`;
      const meter = await cpuMeter(side === "relay" ? relay.child : floor);
      const result = await load(url, { duration: settings.ingestSeconds });
      const cpu = await meter.per(Math.max(1, result["2xx"]));
      if (result.non2xx > 0 || result.errors > 0)
        console.log(`  ${side}: ${result.non2xx} non-2xx, ${result.errors} errors`);
      if (!best[side] || result.requests.average > best[side].result.requests.average) best[side] = { result, cpu };
      if (!leastCpu[side] || cpu.processMs < leastCpu[side].processMs) leastCpu[side] = cpu;
      await redis.flushall();
    }
  }
  const figures = (side: "relay" | "floor") => ({
    perSecond: round(best[side]?.result.requests.average ?? 0),
    p50Ms: best[side]?.result.latency.p50,
    p99Ms: best[side]?.result.latency.p99,
    cpuPerRequest: leastCpu[side] ?? { processMs: 0, redisMs: 0 },
  });
  const ingest = { relay: figures("relay"), floor: figures("floor"), ratio: 0, cpuRatio: 0 };
  ingest.ratio = round(ingest.relay.perSecond / ingest.floor.perSecond, 2);
  ingest.cpuRatio = round(ingest.floor.cpuPerRequest.processMs / ingest.relay.cpuPerRequest.processMs, 2);
  results.ingest = ingest;
  console.log(
    `ingest (best of ${settings.ingestRounds} × ${settings.ingestSeconds} s): relay ${ingest.relay.perSecond}/s p99 ${ingest.relay.p99Ms} ms | ` +
      `bare Koa + BullMQ add ${ingest.floor.perSecond}/s p99 ${ingest.floor.p99Ms} ms | ratio ${ingest.ratio}`,
  );
  console.log(
    `  least CPU per request: relay ${cpuText(ingest.relay.cpuPerRequest)} | floor ${cpuText(ingest.floor.cpuPerRequest)} | ` +
      `ratio floor/relay ${ingest.cpuRatio}`,
  );
  await Promise.all([relay.child.stop(), floor.stop()]);
  await redis.flushall();
}

/**
 * Queues `count` delivery jobs to the sink on `prefix`, as the routing worker would, each event
 * a ticket of its own; with `bare`, the same jobs on the bare worker's queue too.
 */
async function queueDeliveries(prefix: string, count: number, bare?: Queue) {
  const config = parseConfig(relayYaml(prefix), "bench.yaml", {});
  const parts = buildParts(config, { withTargets: false });
  const receivedAt = new Date().toISOString();
  const [template] =
    parts.sources
      .get("socialboards")
      ?.normalize(JSON.parse(fixture), { id: "r", source: "socialboards", receivedAt }) ?? [];
  if (!template) throw new Error("the fixture made no event");
  const [routed] = parts.router.match(template);
  if (!routed) throw new Error("the event matched no route");
  const policy = deliveryPolicyFor(config, routed.targetId);
  const relayQueue = new Queue<DeliveryJob>(deliveryQueueName, { connection: redis, prefix });
  for (let start = 0; start < count; start += 1000) {
    const jobs = Array.from({ length: Math.min(1000, count - start) }, (_, offset) => {
      const ticketId = String(20_000_000 + start + offset);
      const event = {
        ...template,
        id: `bench${runId}${prefix}x${start + offset}.0`,
        ticketId,
        ...(template.ticket ? { ticket: { ...template.ticket, id: ticketId } } : {}),
      };
      return { name: routed.targetId, data: { event, targetId: routed.targetId, route: routed.route } };
    });
    await relayQueue.addBulk(
      jobs.map((job) => ({ ...job, opts: deliveryJobOptions(job.data.event.id, job.name, policy) })),
    );
    await bare?.addBulk(
      jobs.map((job) => ({ ...job, opts: { jobId: `${job.data.event.id}.${job.name}`, removeOnComplete: true } })),
    );
  }
  await relayQueue.close();
}

// 2. A backlog of delivery jobs drained to the sink: the relay's delivery worker against a bare
//    BullMQ worker posting each job through an undici Pool, the same jobs, the same sink. On a
//    shared machine one drain each gave ratios from 0.46 to 0.74 for the same code, so each side
//    drains it in several rounds, the side that goes first alternating, and the best of each is
//    kept, as for ingest; the ratio of every round is printed too, to show the spread.
if (runs("backlog")) {
  const bareQueue = new Queue("bare", { connection: redis, prefix: "bare" });
  const concurrency = concurrencyOfBoth();
  type Drain = { perSecond: number; delivered: number; cpuPerDelivery: { processMs: number; redisMs: number } };
  const drain = async (side: "relay" | "bare"): Promise<Drain> => {
    await resetSink();
    const child = side === "relay" ? (await startRelay("worker", "backlog")).child : await startBareWorker("bare");
    // CPU is counted from the first delivery on, leaving out the process's start.
    await waitForSink(1, `${side} backlog`);
    const meter = await cpuMeter(child);
    const from = (await sinkStats()).count;
    const stats = await waitForSink(settings.backlog, `${side} backlog`);
    const cpu = await meter.per(Math.max(1, stats.count - from));
    await child.stop();
    return {
      perSecond: round((stats.count - 1) / ((stats.last - stats.first) / 1000)),
      delivered: stats.count,
      cpuPerDelivery: cpu,
    };
  };
  const rounds: { relay: Drain; bare: Drain; ratio: number }[] = [];
  for (let index = 0; index < settings.backlogRounds; index += 1) {
    await queueDeliveries("backlog", settings.backlog, bareQueue);
    const order = index % 2 === 0 ? (["bare", "relay"] as const) : (["relay", "bare"] as const);
    const drained: Partial<Record<"relay" | "bare", Drain>> = {};
    for (const side of order) drained[side] = await drain(side);
    const { relay, bare } = drained as Record<"relay" | "bare", Drain>;
    rounds.push({ relay, bare, ratio: round(relay.perSecond / bare.perSecond, 2) });
    await redis.flushall();
  }
  const best = (side: "relay" | "bare"): Drain => {
    const drains = rounds.map((drained) => drained[side]);
    const fastest = drains.reduce((a, b) => (b.perSecond > a.perSecond ? b : a));
    const leastCpu = drains.reduce((a, b) => (b.cpuPerDelivery.processMs < a.cpuPerDelivery.processMs ? b : a));
    return { ...fastest, cpuPerDelivery: leastCpu.cpuPerDelivery };
  };
  const relay = best("relay");
  const bare = best("bare");
  const backlog = {
    jobs: settings.backlog,
    concurrency,
    relay,
    bare,
    ratio: round(relay.perSecond / bare.perSecond, 2),
    cpuRatio: round(bare.cpuPerDelivery.processMs / relay.cpuPerDelivery.processMs, 2),
    rounds,
  };
  results.backlog = backlog;
  console.log(
    `backlog of ${settings.backlog} deliveries (concurrency ${concurrency}, best of ${rounds.length} alternating rounds): ` +
      `relay ${relay.perSecond}/s | bare BullMQ worker + undici Pool ${bare.perSecond}/s | ratio ${backlog.ratio} ` +
      `(rounds: ${rounds.map((drained) => drained.ratio).join(", ")})`,
  );
  console.log(
    `  least CPU per delivery: relay ${cpuText(relay.cpuPerDelivery)} | bare ${cpuText(bare.cpuPerDelivery)} | ` +
      `ratio bare/relay ${backlog.cpuRatio}`,
  );
  await bareQueue.close();
}

// 3. End to end: POST → relay → sink, at fixed offered rates and at saturation, with
//    receipt-to-delivery latency read at the sink. First one process (role all), with RSS
//    after the first and the last count of events delivered; then (e2e-split) the shape
//    docs/deploy.md recommends, an ingest process and a worker process apart.
async function endToEnd(url: string, measured: BenchChild[], label: string) {
  let delivered = 0;
  const phase = async (options: { amount: number; rate?: number }) => {
    await resetSink();
    const meter = await cpuMeter(...measured);
    const started = Date.now();
    const result = options.rate
      ? await offer(url, options.amount, options.rate)
      : await load(url, { amount: options.amount });
    const stats = await waitForSink(result["2xx"], "end to end");
    delivered += stats.count;
    const cpuPerEvent = await meter.per(Math.max(1, stats.count));
    return {
      offered: options.rate ?? "saturation",
      accepted: result["2xx"],
      refused: result.non2xx + result.errors,
      deliveredPerSecond: round(stats.count / ((stats.last - started) / 1000)),
      p50Ms: stats.p50,
      p99Ms: stats.p99,
      duplicates: stats.count - stats.distinct,
      cpuPerEvent,
    };
  };
  const print = (when: string, figures: Awaited<ReturnType<typeof phase>>) =>
    console.log(
      `end to end${label} ${when}: ${figures.deliveredPerSecond} events/s delivered (${figures.accepted} accepted, ` +
        `${figures.refused} refused, ${figures.duplicates} duplicates), receipt to delivery p50 ${figures.p50Ms} ms, p99 ${figures.p99Ms} ms; ${cpuText(figures.cpuPerEvent)}`,
    );
  const [firstCount = 10_000, lastCount = 30_000] = settings.rssEvents;
  const rss: Record<string, number> = {};
  const rssNow = () => measured.reduce((sum, child) => sum + child.rssMb(), 0);
  const warm = await phase({ amount: firstCount });
  print(`at saturation (first ${firstCount})`, warm);
  rss[String(delivered)] = rssNow();
  const rated = [];
  for (const rate of settings.rates) {
    const figures = await phase({ amount: rate * settings.rateSeconds, rate });
    print(`offered ${rate}/s for ${settings.rateSeconds} s`, figures);
    rated.push(figures);
  }
  const saturation = await phase({ amount: Math.max(1000, lastCount - delivered) });
  print("at saturation", saturation);
  rss[String(delivered)] = rssNow();
  return { rates: rated, saturation, warmup: warm, rss };
}

if (runs("e2e")) {
  const relay = await startRelay("all", "e2e");
  const { rss, ...figures } = await endToEnd(`${relay.url}/webhooks/socialboards`, [relay.child], "");
  const [rssFirst = 0, rssLast = 0] = Object.values(rss);
  results.endToEnd = figures;
  results.rssMb = { ...rss, growth: round(rssLast / rssFirst, 2) };
  console.log(
    `relay RSS: ${Object.entries(rss)
      .map(([count, mb]) => `${mb} MB after ${count} events`)
      .join(", ")} (×${round(rssLast / rssFirst, 2)})`,
  );
  await relay.child.stop();
}

// The same phases through the floor of this stack: the bare Koa app adding one BullMQ job per
// request, and the bare worker posting each to the sink (what bench/floor.ts and
// bench/bare-worker.ts do, nothing more).
if (runs("e2e-floor")) {
  const { child: floor, url: floorUrl } = await startFloorApp("floor-e2e", "bare");
  const bareWorker = await startBareWorker("bare-e2e");
  const { rss: _, ...figures } = await endToEnd(
    `${floorUrl}/`,
    [floor, bareWorker],
    " (floor: bare Koa + BullMQ → bare worker)",
  );
  results.endToEndFloor = figures;
  await Promise.all([floor.stop(), bareWorker.stop()]);
}

if (runs("e2e-split")) {
  const ingest = await startRelay("ingest", "split", "split-ingest");
  const worker = await startRelay("worker", "split", "split-worker");
  const { rss: _, ...figures } = await endToEnd(
    `${ingest.url}/webhooks/socialboards`,
    [ingest.child, worker.child],
    " (ingest + worker processes)",
  );
  results.endToEndSplit = figures;
  await Promise.all([ingest.child.stop(), worker.child.stop()]);
}

// 4. Scale-out (bench/scale-out.ts): one backlog drained by 1, 2, 4 worker processes, and
//    ingest spread over 1 and 2 ingest processes, all on the one Redis.
if (runs("scale")) {
  results.scaleOut = await runScaleOut({
    settings: settings.scale,
    connections: settings.connections,
    redis,
    sink,
    startRelay,
    queueDeliveries,
    resetSink,
    sinkStats,
    waitForSink,
    redisCpuMs,
    load,
  });
}

// A run of some parts only (BENCH_ONLY) keeps the other parts' figures from the last run.
const resultsFile = join(root, "bench/results.json");
const previous =
  settings.only && existsSync(resultsFile)
    ? (JSON.parse(readFileSync(resultsFile, "utf8")) as Record<string, unknown>)
    : {};
writeFileSync(resultsFile, `${JSON.stringify({ ...previous, ...results }, null, 2)}\n`);
console.log("figures written to bench/results.json");
await Promise.all(children.map((child) => child.stop()));
redis.disconnect();
await redisServer.stop();
rmSync(dir, { recursive: true, force: true });
