import type Koa from "koa";
import { unknownSource } from "../history/history-tools.js";
import type { RefusedRequest } from "../history/records.js";

/** A reason quotes what the sender sent (a source's name in the URL): cut here. */
const maxReasonLength = 200;

/**
 * Keeps each webhook request a source refused (a 4xx) in the history, without its body or any
 * secret: what answers "the platform says it sends, but nothing arrives" (`ticket-relay events
 * refused`). It runs outside the error mapping, so it sees the status and reason the sender got.
 */
export function recordRefusals(
  record: (request: RefusedRequest) => void,
  isSource: (id: string) => boolean,
): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } finally {
      const source = /^\/webhooks\/([^/]+)\/?$/.exec(ctx.path)?.[1];
      if (source !== undefined && ctx.status >= 400 && ctx.status < 500) {
        const said = (ctx.body as { error?: unknown } | undefined)?.error;
        const reason = typeof said === "string" ? said : `HTTP ${ctx.status}`;
        record({
          at: new Date().toISOString(),
          source: isSource(source) ? source : unknownSource,
          method: ctx.method,
          status: ctx.status,
          reason: reason.length > maxReasonLength ? `${reason.slice(0, maxReasonLength - 1)}…` : reason,
          client: ctx.ip,
        });
      }
    }
  };
}
