import { pino } from "pino";

export type Logger = pino.Logger;

/**
 * JSON logs on stdout. We log ids, types and outcomes, never payload text, customer emails or
 * secrets; the redact list is a second line of defence for anything that slips through.
 */
export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const settings: pino.LoggerOptions = {
    level: options.level ?? process.env.LOG_LEVEL ?? "info",
    base: { service: "ticket-relay" },
    redact: {
      paths: [
        "token",
        "*.token",
        "verifyToken",
        "*.verifyToken",
        "urlToken",
        "*.urlToken",
        "smtp",
        "*.smtp",
        "*.authorization",
        "signingSecret",
        "*.signingSecret",
        "targets.*.signingSecret",
      ],
      censor: "[redacted]",
    },
  };
  return options.destination ? pino(settings, options.destination) : pino(settings);
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
