import { Agent, request } from "undici";

export interface LoadOptions {
  /** Where to post, read at every request: a relay restarted on the same port is found again. */
  url: () => string;
  /** How many events to send, numbered 0 … count - 1. */
  count: number;
  /** The body of request `n`, or the whole request when it goes elsewhere or needs headers of its own. */
  body: (n: number) => string | Buffer | LoadRequest;
  headers?: Record<string, string>;
  /** Requests in flight at once. */
  connections?: number;
  /** Events per second, spread evenly; without it, as fast as the relay answers. */
  rate?: number;
  /**
   * Sends a request again, after 200 ms, when its connection was refused: it never reached a
   * relay (one is restarting), and a platform would send it again.
   */
  retryRefused?: boolean;
  /** Called with every answer: its status, or "error" when there was no HTTP answer. */
  onAnswer?: (n: number, status: number | "error") => void;
}

export interface LoadRequest {
  /** Replaces `url()` for this request. */
  url?: string;
  headers?: Record<string, string>;
  body: string | Buffer;
}

export interface LoadRun {
  /** Answered so far (any status, or a connection error). */
  readonly answered: number;
  /** Answers by status; `error` when the request got no HTTP answer (connection refused or cut). */
  readonly statuses: Map<number | "error", number>;
  /** The events answered 200: the ones the relay promised to deliver. */
  readonly accepted: Set<number>;
  /** The first few reasons a request got no HTTP answer. */
  readonly errors: string[];
  done: Promise<void>;
}

/**
 * A load generator for the fault tests: sends `count` numbered events over `connections`
 * concurrent keep-alive connections, at `rate` per second or flat out, and records every
 * answer. Nothing is retried: an event counts as accepted only when it got its 200.
 */
export function startLoad(options: LoadOptions): LoadRun {
  const { count, connections = 16, rate } = options;
  const statuses = new Map<number | "error", number>();
  const accepted = new Set<number>();
  const errors: string[] = [];
  const dispatcher = new Agent({ connections, pipelining: 1, keepAliveTimeout: 10_000 });
  let next = 0;
  let answered = 0;
  const startedAt = Date.now();
  const count1 = (key: number | "error") => statuses.set(key, (statuses.get(key) ?? 0) + 1);

  const runConnection = async () => {
    for (;;) {
      const n = next;
      if (n >= count) return;
      next += 1;
      if (rate) {
        const due = startedAt + (n * 1000) / rate;
        const wait = due - Date.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      }
      const made = options.body(n);
      const one = typeof made === "string" || Buffer.isBuffer(made) ? { body: made } : made;
      let status: number | "error" = "error";
      for (let refused = true; refused; ) {
        refused = false;
        try {
          const response = await request(one.url ?? options.url(), {
            method: "POST",
            headers: { "content-type": "application/json", ...options.headers, ...one.headers },
            body: one.body,
            dispatcher,
            headersTimeout: 30_000,
            bodyTimeout: 30_000,
          });
          await response.body.dump();
          status = response.statusCode;
        } catch (error) {
          status = "error";
          if (options.retryRefused && (error as NodeJS.ErrnoException).code === "ECONNREFUSED") {
            refused = true;
            await new Promise((resolve) => setTimeout(resolve, 200));
            continue;
          }
          if (errors.length < 5) errors.push(String((error as Error).cause ?? (error as Error).message));
        }
      }
      count1(status);
      if (status === 200) accepted.add(n);
      options.onAnswer?.(n, status);
      answered += 1;
    }
  };

  const done = Promise.all(Array.from({ length: connections }, runConnection)).then(() => dispatcher.close());
  return {
    get answered() {
      return answered;
    },
    statuses,
    accepted,
    errors,
    done,
  };
}

/** Statuses as one short text, e.g. `200×2981 503×19`. */
export function describeStatuses(statuses: Map<number | "error", number>): string {
  return [...statuses.entries()]
    .sort(([a], [b]) => String(a).localeCompare(String(b)))
    .map(([status, n]) => `${status}×${n}`)
    .join(" ");
}
