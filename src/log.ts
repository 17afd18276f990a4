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
