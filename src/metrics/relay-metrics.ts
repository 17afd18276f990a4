import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { answerWithin } from "../redis/connections.js";

/**
 * Every metric the relay exposes, with its help text, in one registry per running relay: two
 * relays in one process (the tests) never share a counter. Modules get only the narrow recorder
 * they count with; docs/operations.md lists the metrics for the people who run the relay.
 */

/** A webhook POST, once answered: its source id (`unknown` when the path names none), its status. */
export interface WebhookRecorder {
  answered(answer: { source: string; status: number; seconds: number }): void;
}

/** One event read from a stored webhook by the routing worker. */
export interface EventRecorder {
  received(source: string, type: string): void;
}

/** One delivery try's outcome, counted where the delivery pipeline decides it. */
export interface DeliveryRecorder {
  /** The target accepted it; `receivedAt` is when the relay accepted its webhook (ISO time). */
  delivered(target: string, receivedAt: string): void;
  retried(target: string): void;
  deadLettered(target: string): void;
  /** Its template failed and the default message was sent instead (the log says so once per template). */
  templateFellBack(target: string, route: string): void;
}

export type ReloadResult = "ok" | "refused";

/** What Redis holds at scrape time. */
export interface QueueSnapshot {
  queues: QueueDepth[];
  /** Deliveries that gave up and are kept to be replayed. */
  deadLetters: number;
}

export interface QueueDepth {
  queue: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  /** Seconds since the job that has waited longest was queued; 0 when none waits. */
  oldestWaitingSeconds: number;
}

export interface RelayMetrics {
  registry: Registry;
  webhooks: WebhookRecorder;
  events: EventRecorder;
  deliveries: DeliveryRecorder;
  reloads(result: ReloadResult): void;
}

/** Event types come from whoever can post; past this many, the rest share the label `other`. */
const maxEventTypes = 200;
/**
 * A scrape waits this long for Redis, then says `ticket_relay_redis_up 0` and gives no depths:
 * Prometheus gives up on a scrape after 10 s by default, and the counters must still arrive.
 */
const queueReadTimeoutMs = 1000;
/** From a webhook stored at once to the 20 s a platform waits for its answer. */
const ingestBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20];
/** From a delivery at once to the day and a half the default retry schedule lasts. */
const deliveryBuckets = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 7200, 36_000, 86_400, 172_800];
const queueStates = ["waiting", "active", "delayed", "failed"] as const;

export function createRelayMetrics(options: {
  /** Reads the queues from Redis, at scrape time. */
  readQueues: () => Promise<QueueSnapshot>;
  /** Webhooks in ingest's spool not yet in Redis; undefined without a spool (no samples then). */
  readSpool?: () => { records: number; bytes: number } | undefined;
}): RelayMetrics {
  const registry = new Registry();
  const registers = [registry];
  const prefix = "ticket_relay_";

  const webhooks = new Counter({
    name: `${prefix}webhooks_total`,
    help: "Webhook POSTs answered, by source id (unknown: the path names no source) and HTTP status.",
    labelNames: ["source", "status"] as const,
    registers,
  });
  const ingestDuration = new Histogram({
    name: `${prefix}ingest_duration_seconds`,
    help: "Time from a webhook POST's arrival to its answer (a 200 only once Redis holds it), by source.",
    labelNames: ["source"] as const,
    buckets: ingestBuckets,
    registers,
  });
  const events = new Counter({
    name: `${prefix}events_total`,
    help: `Events read from stored webhooks by the routing worker, by source and event type (past ${maxEventTypes} types: other).`,
    labelNames: ["source", "type"] as const,
    registers,
  });
  const deliveries = new Counter({
    name: `${prefix}deliveries_total`,
    help: "Delivery tries by target and outcome: delivered, retried (tried again later) or dead_lettered (gave up).",
    labelNames: ["target", "outcome"] as const,
    registers,
  });
  const deliveryLatency = new Histogram({
    name: `${prefix}delivery_latency_seconds`,
    help: "Time from the relay accepting a webhook to the target accepting its delivery, retries included, by target.",
    labelNames: ["target"] as const,
    buckets: deliveryBuckets,
    registers,
  });
  const templateFallbacks = new Counter({
    name: `${prefix}template_fallbacks_total`,
    help: "Deliveries sent with the default message because their template failed, by target and route (the log names each template's first failure).",
    labelNames: ["target", "route"] as const,
    registers,
  });
  const reloads = new Counter({
    name: `${prefix}config_reloads_total`,
    help: "Config reloads by result: ok (put in force) or refused (invalid; the running config stayed).",
    labelNames: ["result"] as const,
    registers,
  });
  for (const result of ["ok", "refused"] as const) reloads.inc({ result }, 0);

  // One Redis read per scrape, shared by every gauge below; undefined when Redis did not answer.
  const snapshot = sharedWhileInFlight(() =>
    answerWithin(options.readQueues(), queueReadTimeoutMs).catch(() => undefined),
  );
  new Gauge({
    name: `${prefix}redis_up`,
    help: `1 when this scrape read the queues from Redis, 0 when Redis did not answer within ${queueReadTimeoutMs} ms.`,
    registers,
    async collect() {
      this.set((await snapshot()) ? 1 : 0);
    },
  });
  new Gauge({
    name: `${prefix}queue_jobs`,
    help: "Jobs in each queue (inbound: webhooks to route; delivery: deliveries) by state, read at scrape time.",
    labelNames: ["queue", "state"] as const,
    registers,
    async collect() {
      // No number is better than a stale one: without Redis the samples are left out.
      this.reset();
      for (const depth of (await snapshot())?.queues ?? []) {
        for (const state of queueStates) this.set({ queue: depth.queue, state }, depth[state]);
      }
    },
  });
  new Gauge({
    name: `${prefix}queue_oldest_waiting_seconds`,
    help: "Age of the job that has waited longest in each queue (0: none waits), read at scrape time.",
    labelNames: ["queue"] as const,
    registers,
    async collect() {
      this.reset();
      for (const depth of (await snapshot())?.queues ?? [])
        this.set({ queue: depth.queue }, depth.oldestWaitingSeconds);
    },
  });
  new Gauge({
    name: `${prefix}dead_letters`,
    help: "Dead letters kept to be replayed (the delivery queue's failed jobs); NaN when Redis did not answer.",
    registers,
    async collect() {
      this.set((await snapshot())?.deadLetters ?? Number.NaN);
    },
  });

  for (const [unit, help] of [
    ["records", "Webhooks in this ingest process's spool (spool.dir) not yet moved into Redis; 0 once drained."],
    ["bytes", "Bytes of the webhooks in this ingest process's spool not yet moved into Redis."],
  ] as const) {
    new Gauge({
      name: `${prefix}spool_${unit}`,
      help,
      registers,
      collect() {
        this.reset();
        const depth = options.readSpool?.();
        if (depth) this.set(depth[unit]);
      },
    });
  }

  const eventType = boundedLabel(maxEventTypes);
  return {
    registry,
    webhooks: {
      answered({ source, status, seconds }) {
        webhooks.inc({ source, status: String(status) });
        ingestDuration.observe({ source }, seconds);
      },
    },
    events: {
      received: (source, type) => events.inc({ source, type: eventType(type) }),
    },
    deliveries: {
      delivered(target, receivedAt) {
        deliveries.inc({ target, outcome: "delivered" });
        const seconds = (Date.now() - Date.parse(receivedAt)) / 1000;
        if (Number.isFinite(seconds)) deliveryLatency.observe({ target }, Math.max(0, seconds));
      },
      retried: (target) => deliveries.inc({ target, outcome: "retried" }),
      deadLettered: (target) => deliveries.inc({ target, outcome: "dead_lettered" }),
      templateFellBack: (target, route) => templateFallbacks.inc({ target, route }),
    },
    reloads: (result) => reloads.inc({ result }),
  };
}

/** The first `max` values seen keep their name; any later new one is `other`. */
function boundedLabel(max: number): (value: string) => string {
  const seen = new Set<string>();
  return (value) => {
    if (seen.has(value)) return value;
    if (seen.size >= max) return "other";
    seen.add(value);
    return value;
  };
}

/**
 * prom-client collects every metric of a scrape at once; the gauges that read the queues share
 * the one read in flight instead of asking Redis once each.
 */
function sharedWhileInFlight<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () => {
    if (!inFlight) {
      inFlight = read().finally(() => {
        inFlight = undefined;
      });
    }
    return inFlight;
  };
}
