import { readFileSync } from "node:fs";
import { appendFile } from "node:fs/promises";
import type { Role } from "../../../src/serve.js";
import { type RelayProcess, startRelayProcess } from "../../support/relay-process.js";
import { waitFor } from "../../support/wait.js";
import type { CountingSink } from "./counting-sink.js";
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
 * One route to two HTTP targets; retries quick and many, so an outage of some seconds is
 * waited out; a worker that dies leaves its jobs to another within a few seconds.
 */
export function faultConfig(config: FaultConfig): string {
  return `
server: { port: ${config.port ?? 0}, host: 127.0.0.1 }
redis: { url: "${config.redisUrl}", prefix: ${config.prefix} }
${config.spool ? `spool: { dir: "${config.spool.dir}", maxBytes: ${config.spool.maxBytes ?? "1gb"} }` : ""}
workers: { concurrency: 20, lockDuration: 5s, stalledInterval: 1s, shutdownTimeout: 5s }
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

/** Waits until every accepted event reached every target, then a moment for late duplicates. */
export async function waitForEveryDelivery(sink: CountingSink, accepted: Set<number>, timeoutMs = 60_000) {
  await waitFor(() => Object.values(tally(sink, accepted).missing).every((n) => n === 0), {
    what: "every accepted event at every target",
    timeoutMs,
    intervalMs: 250,
  }).catch((error: Error) => {
    throw new Error(`${error.message}: ${JSON.stringify(tally(sink, accepted))}`);
  });
  await new Promise((resolve) => setTimeout(resolve, 1500));
  return tally(sink, accepted);
}

/**
 * One line per fault test, on the console and appended to $FAULTS_REPORT when set: what was
 * sent, what was answered, and what arrived (duplicates are allowed, and reported).
 */
export async function report(name: string, load: LoadRun, sent: number, result: Tally, extra = ""): Promise<void> {
  const line = `[faults] ${name}: sent ${sent}, answered ${describeStatuses(load.statuses)}, accepted ${result.accepted}, missing ${JSON.stringify(result.missing)}, duplicates ${result.duplicates}${extra ? `, ${extra}` : ""}`;
  console.log(line);
  if (process.env.FAULTS_REPORT) await appendFile(process.env.FAULTS_REPORT, `${line}\n`);
}

/**
 * Relay processes of one test, started at info level (the start and port lines are info; a
 * debug line per delivery would only cost CPU) with time to start on a busy machine, and all
 * killed at the end.
 */
export function relayProcesses() {
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
