import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach } from "vitest";
import type { Role } from "../../../src/serve.js";
import { waitForQuietQueues } from "../../support/quiet-queues.js";
import { type RedisServer, startRedisServer } from "../../support/redis.js";
import { uniquePrefix } from "../../support/relay.js";
import { type RelayProcess, startRelayProcess } from "../../support/relay-process.js";
import { waitFor } from "../../support/wait.js";
import { type CountingSink, startCountingSink } from "./counting-sink.js";
import { describeStatuses, type LoadRun } from "./load.js";

const statusChange = readFileSync(
  new URL("../../fixtures/socialboards/ticket_status_change.json", import.meta.url),
  "utf8",
);

/** The paths of the two HTTP targets every fault test's one route sends each event to. */
export const targetPaths = ["/a", "/b"] as const;

/** Event `n`: a Socialboards status change of a ticket of its own, titled `fault-<n>`. */
export function eventBody(n: number): string {
  return statusChange.replaceAll("4478963", String(1_000_000 + n)).replace("Cat is ill", `fault-${n}`);
}

/** The event number in what an HTTP target received (the platform's JSON rides along as `payload`). */
export function markerOf(json: unknown): number | undefined {
  const title = (json as { payload?: { Ticket?: { Title?: string } } }).payload?.Ticket?.Title;
  const match = /^fault-(\d+)$/.exec(title ?? "");
  return match ? Number(match[1]) : undefined;
}

export interface FaultConfig {
  redisUrl: string;
  prefix: string;
  sinkUrl: string;
  /** A fixed ingest port, for a relay that restarts where senders expect it. */
  port?: number;
  spool?: { dir: string; maxBytes?: string };
  /** Extra YAML lines under `sources:` (the bad-request test's signed source). */
  moreSources?: string;
  retryDelay?: string;
  /** The socialboards source's urlToken (none by default). */
  urlToken?: string;
}

/**
 * Deliveries one worker process runs at once (`workers.concurrency`). One delivery is one event
 * to one target, so a worker killed mid-burst can have sent at most this many that it had not
 * marked sent yet: the bound on the duplicates a kill may cause.
 */
export const workerConcurrency = 20;

/**
 * One route to two HTTP targets; retries quick and many, so an outage of some seconds is
 * waited out; a worker that dies leaves its jobs to another within a few seconds.
 */
export function faultConfig(config: FaultConfig): string {
  return `
server: { port: ${config.port ?? 0}, host: 127.0.0.1 }
redis: { url: "${config.redisUrl}", prefix: ${config.prefix} }
${config.spool ? `spool: { dir: "${config.spool.dir}", maxBytes: ${config.spool.maxBytes ?? "1gb"} }` : ""}
workers: { concurrency: ${workerConcurrency}, lockDuration: 5s, stalledInterval: 1s, shutdownTimeout: 5s }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: "${config.urlToken ?? "none"}", dedupe: { window: 0 } }
${config.moreSources ?? ""}
targets:
  a: { type: http, url: "${config.sinkUrl}/a", timeout: 5s }
  b: { type: http, url: "${config.sinkUrl}/b", timeout: 5s }
retry: { attempts: 60, backoff: fixed, delay: ${config.retryDelay ?? "500ms"} }
routes:
  - match: { source: socialboards }
    to: [a, b]
`;
}

export interface Tally {
  accepted: number;
  /** Accepted events a target has not received, per target path. */
  missing: Record<string, number>;
  /** Deliveries beyond the first of an event to a target, all targets together. */
  duplicates: number;
}

export function tally(sink: CountingSink, accepted: Set<number>): Tally {
  const missing: Record<string, number> = {};
  let duplicates = 0;
  for (const path of targetPaths) {
    const received = sink.received.get(path) ?? new Map<number, number>();
    missing[path] = 0;
    for (const n of accepted) if (!received.has(n)) missing[path] += 1;
    for (const times of received.values()) duplicates += Math.max(0, times - 1);
  }
  return { accepted: accepted.size, missing, duplicates };
}

/**
 * Waits until every accepted event reached every target, then until the relays' queues are
 * quiet: nothing is left to send, so a late duplicate (a killed worker's job taken over) is
 * counted too.
 */
async function waitForEveryDelivery(
  sink: CountingSink,
  accepted: Set<number>,
  queues: { url: string; prefix: string }[],
  timeoutMs: number,
) {
  await waitFor(() => Object.values(tally(sink, accepted).missing).every((n) => n === 0), {
    what: "every accepted event at every target",
    timeoutMs,
    intervalMs: 250,
  }).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(tally(sink, accepted))}`);
  });
  for (const relay of queues) await waitForQuietQueues(relay, { timeoutMs: 60_000 });
  return tally(sink, accepted);
}

/** Waits until more than `count` requests of a burst were answered: the burst is under way. */
export async function waitForAnswers(load: LoadRun, count: number): Promise<void> {
  await waitFor(() => load.answered > count, { what: "the burst to be under way", timeoutMs: 30_000 });
}

/**
 * One line per fault test, on the console and appended to $FAULTS_REPORT when set: what was
 * sent, what was answered, and what arrived (duplicates too: each test asserts the bound it can).
 */
export async function report(name: string, load: LoadRun, sent: number, result: Tally, extra = ""): Promise<void> {
  const line = `[faults] ${name}: sent ${sent}, answered ${describeStatuses(load.statuses)}, accepted ${result.accepted}, missing ${JSON.stringify(result.missing)}, duplicates ${result.duplicates}${extra ? `, ${extra}` : ""}`;
  console.log(line);
  if (process.env.FAULTS_REPORT) await appendFile(process.env.FAULTS_REPORT, `${line}\n`);
}

export interface RelayProcesses {
  start(yaml: string, role?: Role): Promise<RelayProcess>;
  killAll(): Promise<void>;
}

/**
 * Relay processes of one test, started at info level (the start and port lines are info; a
 * debug line per delivery would only cost CPU) with time to start on a busy machine, and all
 * killed at the end.
 */
export function relayProcesses(): RelayProcesses {
  const started: RelayProcess[] = [];
  return {
    async start(yaml: string, role: Role = "all"): Promise<RelayProcess> {
      const relay = await startRelayProcess(yaml, role, { env: { LOG_LEVEL: "info" }, startTimeoutMs: 60_000 });
      started.push(relay);
      return relay;
    },
    async killAll(): Promise<void> {
      for (const relay of started) relay.kill("SIGKILL");
      await Promise.all(started.map((relay) => relay.exited));
    },
  };
}

/** Resident memory of a process, in MB, from /proc (Linux). */
export function residentMb(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]);
  return Math.round(kb / 1024);
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** What a fault test builds its story from; see `faultScenario`. */
export interface FaultScenario {
  /** The file's redis-server. */
  readonly redis: RedisServer;
  /** The current test's own sink: events of two tests, numbered alike, are counted apart. */
  readonly sink: CountingSink;
  readonly relays: RelayProcesses;
  /** `faultConfig` for this Redis and sink, under a prefix of its own. */
  config(options?: Omit<FaultConfig, "redisUrl" | "prefix" | "sinkUrl">): string;
  /** A new spool folder, removed after the file's tests. */
  spoolDir(): string;
  /** Waits until more than `count` events reached target `/a`: deliveries are under way. */
  waitForDeliveries(count: number): Promise<void>;
  /**
   * Waits until `load` is answered and every event of `accepted` (all it got a 200 for, by
   * default) reached every target, then until the queues of every relay `config` made in this
   * test are quiet, so that late duplicates are counted; returns the tally.
   */
  waitForEveryDelivery(load: LoadRun, accepted?: Set<number>): Promise<Tally>;
}

/**
 * Registers a fault test file's hooks: a redis-server for the file (with `persist`, one that
 * keeps its data across stop and start), a counting sink for each test, and relay processes;
 * all stopped, and spool folders removed, when the file is done.
 */
export function faultScenario(options: { persist?: boolean } = {}): FaultScenario {
  let redis: RedisServer | undefined;
  let sink: CountingSink | undefined;
  const relays = relayProcesses();
  const dirs: string[] = [];
  /** The prefixes `config` made in the current test: whose queues to wait on. */
  let prefixes: string[] = [];
  const started = <T>(what: string, value: T | undefined): T => {
    if (value === undefined) throw new Error(`${what} is not started: use it inside a test`);
    return value;
  };
  const currentRedis = () => started("Redis", redis);
  const currentSink = () => started("the counting sink", sink);

  beforeAll(async () => {
    redis = await startRedisServer({ persist: options.persist });
  });
  beforeEach(async () => {
    prefixes = [];
    sink = await startCountingSink(markerOf);
  });
  afterEach(async () => {
    await sink?.close();
  });
  afterAll(async () => {
    await relays.killAll();
    await redis?.stop();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  return {
    get redis() {
      return currentRedis();
    },
    get sink() {
      return currentSink();
    },
    relays,
    config(more = {}) {
      const prefix = uniquePrefix();
      prefixes.push(prefix);
      return faultConfig({ redisUrl: currentRedis().url, prefix, sinkUrl: currentSink().url, ...more });
    },
    spoolDir() {
      const dir = mkdtempSync(join(tmpdir(), "relay-fault-spool-"));
      dirs.push(dir);
      return dir;
    },
    async waitForDeliveries(count) {
      await waitFor(() => (currentSink().received.get("/a")?.size ?? 0) > count, {
        what: "deliveries",
        timeoutMs: 30_000,
      });
    },
    async waitForEveryDelivery(load, accepted = load.accepted) {
      await load.done;
      const url = currentRedis().url;
      const queues = prefixes.map((prefix) => ({ url, prefix }));
      return waitForEveryDelivery(currentSink(), accepted, queues, 90_000);
    },
  };
}
