import { join } from "node:path";
import { freePort } from "../../test/support/free-port.js";
import { answers, type BenchChild, startChild } from "./child.js";

/** What bench/sink.ts says at GET /stats. */
export interface SinkStats {
  count: number;
  distinct: number;
  first: number;
  last: number;
  /** Receipt-to-delivery latency, ms. */
  p50: number;
  p99: number;
  max: number;
  /** Deliveries that arrived before an earlier one of their ticket, and tickets seen. */
  outOfOrder: number;
  tickets: number;
  longestGapMs: number;
}

/** The bench's HTTP sink (bench/sink.ts) in a process of its own, logging into `dir`. */
export async function startSinkProcess(dir: string): Promise<{
  url: string;
  child: BenchChild;
  stats: () => Promise<SinkStats>;
  reset: () => Promise<void>;
}> {
  const url = `http://127.0.0.1:${await freePort()}`;
  const child = await startChild(["bench/sink.ts"], {
    env: { SINK_PORT: new URL(url).port },
    logFile: join(dir, "sink.log"),
    ready: () => answers(`${url}/stats`),
    what: "the sink",
  });
  return {
    url,
    child,
    stats: async () => (await fetch(`${url}/stats`)).json() as Promise<SinkStats>,
    reset: async () => void (await fetch(`${url}/reset`, { method: "POST" })).arrayBuffer(),
  };
}
