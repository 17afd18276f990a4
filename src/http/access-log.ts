import type Koa from "koa";
import type { Logger } from "../log.js";

/**
 * One access-log line per request, written once its answer is final: it runs outside the
 * error mapping, so a refusal is logged with the status the sender got. The path is logged
 * without its query string, which may carry a token. A stored webhook's line carries its
 * receipt id, where `grep <receipt id>` starts following it.
 */
export function logRequests(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    const started = performance.now();
    try {
      await next();
    } finally {
      logger.info(
        {
          method: ctx.method,
          path: ctx.path,
          status: ctx.status,
          ms: Math.round(performance.now() - started),
          receiptId: ctx.state.receiptId,
        },
        "request",
      );
    }
  };
}
