/**
 * The scale-out part of `npm run bench` (BENCH_ONLY=scale): how deliveries/s grow with worker
 * processes draining one backlog, and webhooks/s with ingest processes each on its own port,
 * all against the one Redis the bench started. Growth stops where the machine's cores, the
 * target or Redis are the limit; Redis CPU per delivery shows which.
 */

import { loadavg } from "node:os";
import type autocannon from "autocannon";
import { Queue } from "bullmq";
import type { Redis } from "ioredis";
import { deliveryQueueName } from "../src/queue/jobs.js";
import type { BenchChild } from "./support/child.js";

export interface ScaleSettings {
  /** Delivery jobs queued before each count of workers starts draining. */
  backlog: number;
  /** Counts of worker processes, one drain each. */
  workers: number[];
  /** Counts of ingest processes, one load round each. */
  ingest: number[];
  /** Length of one ingest round, s. */
  ingestSeconds: number;
}

const listFrom = (name: string, fallback: string) =>
  (process.env[name] ?? fallback).split(",").filter(Boolean).map(Number);

export function scaleSettingsFromEnv(): ScaleSettings {
  return {
    backlog: Number(process.env.BENCH_SCALE_BACKLOG ?? 20_000),
    workers: listFrom("BENCH_SCALE_WORKERS", "1,2,4"),
    ingest: listFrom("BENCH_SCALE_INGEST", "1,2"),
    ingestSeconds: Number(process.env.BENCH_INGEST_SECONDS ?? 5),
  };
}

interface SinkStats {
  count: number;
  first: number;
  last: number;
}

/** What the scale-out part borrows from bench/throughput.ts. */
export interface ScaleOutBench {
  settings: ScaleSettings;
  connections: number;
  redis: Redis;
  /** The HTTP sink's process: the target, whose CPU per delivery shows when it is the limit. */
  sink: BenchChild;
  startRelay(role: "ingest" | "worker", prefix: string, name: string): Promise<{ child: BenchChild; url: string }>;
  queueDeliveries(prefix: string, count: number): Promise<void>;
  resetSink(): Promise<void>;
  sinkStats(): Promise<SinkStats>;
  waitForSink(count: number, what: string): Promise<SinkStats>;
  redisCpuMs(): Promise<number>;
  load(url: string, options: { duration: number; connections: number }): Promise<autocannon.Result>;
}

const round = (value: number, places = 0) => Math.round(value * 10 ** places) / 10 ** places;
const cpuOf = (children: BenchChild[]) => children.reduce((total, child) => total + child.cpuMs(), 0);

export async function runScaleOut(bench: ScaleOutBench) {
  const { settings } = bench;
  // Processes outnumber cores here: other work on the machine shows in every figure.
  const loadBefore = round(loadavg()[0] ?? 0, 2);
  console.log(`scale-out: load average ${loadBefore} before the first drain`);
  const workers = [];
  for (const count of settings.workers) {
    const prefix = `scale${count}`;
    // The workers start on a paused queue and all begin with the resume: the drain measures
    // them together, not the first one up while the others still load.
    const queue = new Queue(deliveryQueueName, { connection: bench.redis, prefix });
    await queue.pause();
    await bench.queueDeliveries(prefix, settings.backlog);
    await bench.resetSink();
    const started = await Promise.all(
      Array.from({ length: count }, (_, index) => bench.startRelay("worker", prefix, `worker${index + 1}`)),
    );
    const children = started.map((relay) => relay.child);
    await queue.resume();
    await bench.waitForSink(1, `${count} workers`);
    const processAt = cpuOf(children);
    const sinkAt = bench.sink.cpuMs();
    const redisAt = await bench.redisCpuMs();
    const from = (await bench.sinkStats()).count;
    const stats = await bench.waitForSink(settings.backlog, `${count} workers`);
    const delivered = Math.max(1, stats.count - from);
    const figures = {
      processes: count,
      perSecond: round((stats.count - 1) / ((stats.last - stats.first) / 1000)),
      delivered: stats.count,
      ratio: 0,
      cpuPerDelivery: {
        processMs: round((cpuOf(children) - processAt) / delivered, 3),
        redisMs: round(((await bench.redisCpuMs()) - redisAt) / delivered, 3),
        sinkMs: round((bench.sink.cpuMs() - sinkAt) / delivered, 3),
      },
    };
    // Cores kept busy by the workers, Redis and the sink together: near the machine's count,
    // the machine is the limit, not the relay.
    const { processMs, redisMs, sinkMs } = figures.cpuPerDelivery;
    const coresBusy = round(((processMs + redisMs + sinkMs) * figures.perSecond) / 1000, 2);
    await Promise.all(children.map((child) => child.stop()));
    await queue.close();
    await bench.redis.flushall();
    figures.ratio = round(figures.perSecond / (workers[0]?.perSecond ?? figures.perSecond), 2);
    workers.push({ ...figures, coresBusy });
    console.log(
      `scale-out: ${count} worker process${count === 1 ? "" : "es"} drain ${settings.backlog} deliveries at ` +
        `${figures.perSecond}/s (×${figures.ratio} of one); CPU ${figures.cpuPerDelivery.processMs} ms in the workers + ` +
        `Redis ${figures.cpuPerDelivery.redisMs} ms + sink ${figures.cpuPerDelivery.sinkMs} ms per delivery, ${coresBusy} cores busy`,
    );
  }

  const ingest = [];
  const most = Math.max(0, ...settings.ingest);
  const relays = await Promise.all(
    Array.from({ length: most }, (_, index) => bench.startRelay("ingest", "scale-ingest", `ingest${index + 1}`)),
  );
  for (const count of settings.ingest) {
    // autocannon's connections split across the processes, as a load balancer would.
    const used = relays.slice(0, count);
    const connections = Math.max(1, Math.round(bench.connections / count));
    const processAt = cpuOf(used.map((relay) => relay.child));
    const redisAt = await bench.redisCpuMs();
    const rounds = await Promise.all(
      used.map((relay) =>
        bench.load(`${relay.url}/webhooks/socialboards`, { duration: settings.ingestSeconds, connections }),
      ),
    );
    const accepted = Math.max(
      1,
      rounds.reduce((total, result) => total + result["2xx"], 0),
    );
    const refused = rounds.reduce((total, result) => total + result.non2xx + result.errors, 0);
    const figures = {
      processes: count,
      perSecond: round(rounds.reduce((total, result) => total + result.requests.average, 0)),
      p99Ms: Math.max(...rounds.map((result) => result.latency.p99)),
      refused,
      ratio: 0,
      cpuPerRequest: {
        processMs: round((cpuOf(used.map((relay) => relay.child)) - processAt) / accepted, 3),
        redisMs: round(((await bench.redisCpuMs()) - redisAt) / accepted, 3),
      },
    };
    await bench.redis.flushall();
    figures.ratio = round(figures.perSecond / (ingest[0]?.perSecond ?? figures.perSecond), 2);
    ingest.push(figures);
    console.log(
      `scale-out: ${count} ingest process${count === 1 ? "" : "es"} take ${figures.perSecond} webhooks/s ` +
        `(×${figures.ratio} of one, p99 ${figures.p99Ms} ms, ${refused} refused); CPU ${figures.cpuPerRequest.processMs} ms ` +
        `in the processes + Redis ${figures.cpuPerRequest.redisMs} ms per webhook`,
    );
  }
  await Promise.all(relays.map((relay) => relay.child.stop()));
  return { at: new Date().toISOString(), loadBefore, backlog: settings.backlog, workers, ingest };
}
