import { pino } from "pino";
import pinoPretty from "pino-pretty";

export type Logger = pino.Logger;

/** Fields that hold a credential, wherever they sit in a logged object. */
const secretFields = [
  "token",
  "verifyToken",
  "urlToken",
  "secret",
  "signingSecret",
  "password",
  "apiKey",
  "authorization",
  "Authorization",
  "cookie",
  // An SMTP URL carries its user and password.
  "smtp",
];
/** Fields that hold what a customer or agent wrote, or how to reach them. */
const personalFields = ["email", "phone", "phone_number", "phoneNumber", "text", "html"];
/** Whole webhooks and bodies: never logged, so dropped whole if one ever is. */
const payloadFields = ["payload", "rawBody", "body"];

const redactedFields = new Set([...secretFields, ...personalFields, ...payloadFields]);
/** Deeper than anything the relay logs on purpose; past it a value is dropped, not searched. */
const scrubDepth = 5;

/**
 * The log object with every field named above replaced, at any depth up to `scrubDepth`. One
 * pass over the object with a set lookup per key: pino's path-based `redact` needs a wildcard
 * path per field and depth, and with ninety of them it cost a third of ingest's throughput.
 */
function scrub(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== "object") return value;
  if (value instanceof Error) return value;
  if (depth >= scrubDepth) return "[too deep]";
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const clean: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    clean[key] = redactedFields.has(key) ? "[redacted]" : scrub(item, depth + 1);
  }
  return clean;
}

/**
 * What a logged error (`err`) keeps: its class, its message and stack with its causes', a Node
 * error's code, and the same of each error an AggregateError holds. Not its other fields: pino
 * would log them all, and ioredis puts the command's arguments on its errors (an AUTH
 * password, a webhook's body), which is why errors are left whole by scrub() but not here.
 */
function loggedError(value: unknown): unknown {
  if (!(value instanceof Error)) return value;
  const { type, message, stack } = pino.stdSerializers.err(value);
  const { code, errors } = value as Error & { code?: unknown; errors?: unknown };
  return {
    type,
    message,
    stack,
    ...(typeof code === "string" && { code }),
    ...(Array.isArray(errors) && { aggregateErrors: errors.map(loggedError) }),
  };
}

/**
 * JSON logs on stdout, or lines for people (pino-pretty) with `pretty`. We log ids, types and
 * outcomes, never payloads, message text, customer emails or phone numbers, or secrets; the
 * redact list is a second line of defence for anything that slips through.
 */
export function createLogger(
  options: { level?: string; destination?: pino.DestinationStream; pretty?: boolean } = {},
): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service: "ticket-relay" },
    formatters: { log: (object) => scrub(object) as Record<string, unknown> },
    serializers: { err: loggedError },
  };
  // One line per entry, so `grep <receipt id>` still finds whole entries. Written to stdout
  // synchronously from this thread, as Node itself writes to a file or a pipe on Linux: each
  // line has left the process before the next statement runs, so no crash loses one. Under
  // load it also costs less than pino's default asynchronous writer, whose write per line
  // through the thread pool cost ingest about 6% more CPU (bench/README.md).
  const pretty = () => pinoPretty({ sync: true, singleLine: true, ignore: "pid,hostname,service" });
  const destination = options.destination ?? (options.pretty ? pretty() : pino.destination({ dest: 1, sync: true }));
  return pino(settings, destination);
}

/**
 * A warning that may fire many times a second (a BullMQ worker reports every failed reconnect)
 * written at most once per `windowMs`, with how many were left out since: an outage stays
 * visible without burying everything else.
 */
export function throttledWarning(logger: Logger, message: string, windowMs = 60_000): (error: Error) => void {
  let lastAt = Number.NEGATIVE_INFINITY;
  let leftOut = 0;
  return (error) => {
    const now = Date.now();
    if (now - lastAt < windowMs) {
      leftOut += 1;
      return;
    }
    logger.warn({ err: error, ...(leftOut > 0 ? { leftOut } : {}) }, message);
    lastAt = now;
    leftOut = 0;
  };
}
