import type Koa from "koa";
import type { Logger } from "../log.js";

/**
 * An error that knows its HTTP answer, after Koa's convention (`ctx.onerror`, http-errors): its
 * `status`, whether its message is written for the sender (`expose`), and the headers the
 * answer needs. An error whose message is not for the sender says what the sender is told
 * instead (`answer`). HttpError (http/body.ts), InvalidPayload (sources/) and QueueUnavailable
 * (queue/inbound/) are such errors.
 */
export interface AnsweringError extends Error {
  readonly status: number;
  /** True when the message may be shown to the sender; without it, Koa's rule: below 500. */
  readonly expose?: boolean;
  readonly headers?: Readonly<Record<string, string>>;
  /** What the sender is told when the message is not exposed; without it, "internal error". */
  readonly answer?: string;
}

/**
 * Every error becomes `{"error": "..."}` with the status it carries, for the ingest app and the
 * ops server alike. An error the sender is not told about is logged here, as Koa logs what it
 * does not expose: an outage (a 503 that names no cause) at warn, an error that carries no
 * status at all, a bug, as a 500 at error. The access log (http/access-log.ts) has a line for
 * every request besides.
 */
export function answerErrors(logger: Logger): Koa.Middleware {
  return async (ctx, next) => {
    try {
      await next();
    } catch (error) {
      if (!isAnswering(error)) {
        ctx.status = 500;
        ctx.body = { error: "internal error" };
        logger.error({ err: error }, "unexpected error");
        return;
      }
      ctx.status = error.status;
      if (error.headers) ctx.set(error.headers);
      const exposed = error.expose ?? error.status < 500;
      const answer = exposed ? error.message : (error.answer ?? "internal error");
      ctx.body = { error: answer };
      if (!exposed) logger.warn({ err: error, status: error.status }, `refused: ${answer}`);
    }
  };
}

/**
 * `{"error": "not found"}` for a path nothing answered. It goes last, after the router, so a
 * middleware before it that answers with a body of its own keeps that body.
 */
export function answerNotFound(): Koa.Middleware {
  return (ctx) => {
    if (ctx.status === 404 && ctx.body === undefined) {
      ctx.status = 404;
      ctx.body = { error: "not found" };
    }
  };
}

/** A status an answer can have: a library's error with some other `status` field is a bug here. */
function isAnswering(error: unknown): error is AnsweringError {
  if (!(error instanceof Error)) return false;
  const { status } = error as Partial<AnsweringError>;
  return typeof status === "number" && Number.isInteger(status) && status >= 400 && status <= 599;
}
