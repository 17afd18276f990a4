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

/**
 * Each field at the top of a log line and up to `depth` objects down: a `*` in a redact path
 * stands for one level, so `*.email` alone would miss `event.author.email`.
 */
function atAnyDepth(fields: readonly string[], depth: number): string[] {
  return Array.from({ length: depth + 1 }, (_, level) => "*.".repeat(level)).flatMap((stars) =>
    fields.map((field) => `${stars}${field}`),
  );
}

const redactedPaths = [...atAnyDepth([...secretFields, ...personalFields], 4), ...atAnyDepth(payloadFields, 2)];

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
    redact: { paths: redactedPaths, censor: "[redacted]" },
  };
  // One line per entry, so `grep <receipt id>` still finds whole entries. In this thread and
  // synchronous, so the last lines before an exit are not lost.
  const pretty = () => pinoPretty({ sync: true, singleLine: true, ignore: "pid,hostname,service" });
  const destination = options.destination ?? (options.pretty ? pretty() : undefined);
  return destination ? pino(settings, destination) : pino(settings);
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
    logger.warn({ err: error.message, ...(leftOut > 0 ? { leftOut } : {}) }, message);
    lastAt = now;
    leftOut = 0;
  };
}
