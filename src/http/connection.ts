import type { IncomingMessage } from "node:http";
import type Koa from "koa";

/**
 * An answer given before the request's body was read to its end (a refusal by path, method,
 * token, type or size) says `Connection: close`, and Node closes the socket once it is sent.
 * Kept open, the connection would be stuck: the unread rest of the body sits in front of the
 * client's next request, and Node stops reading a request nobody consumes, so that next
 * request stalls until a timeout, or is read from the middle of the old body.
 */
export function closeWhenBodyUnread(): Koa.Middleware {
  return async (ctx, next) => {
    await next();
    if (bodyUnread(ctx.req)) ctx.set("Connection", "close");
  };
}

function bodyUnread(request: IncomingMessage): boolean {
  if (request.readableEnded) return false;
  // A request that announces no body (a GET, Content-Length: 0) has nothing left to read.
  return request.headers["transfer-encoding"] !== undefined || Number(request.headers["content-length"]) > 0;
}
