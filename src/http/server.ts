import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * How long open requests may take to finish once shutdown starts. A platform whose request
 * is cut short got no 200 and sends the webhook again, so this only needs to be long enough
 * for an ordinary request in flight; a slow or stalled client is not waited for.
 */
const requestGraceMs = 2000;

export interface Listening {
  server: Server;
  /** Stops accepting, lets open requests finish for a short grace, then drops what is left. */
  close(): Promise<void>;
}

/** An HTTP server for the ingest role, with a shutdown that a slow client cannot hold up. */
export async function listen(
  callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port: number,
  host: string,
): Promise<Listening> {
  // Counts handlers, not sockets: a handler may still be storing a webhook after its client
  // has gone, and the Redis connection must outlive it.
  let handling = 0;
  let idle: (() => void) | undefined;
  const server = createServer((req, res) => {
    handling += 1;
    callback(req, res).finally(() => {
      handling -= 1;
      if (handling === 0) idle?.();
    });
  });
  // Slow or stalled clients must not hold sockets forever.
  server.requestTimeout = 30_000;
  server.headersTimeout = 10_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, host, () => resolve());
  });
  const allHandled = () => (handling === 0 ? Promise.resolve() : new Promise<void>((resolve) => (idle = resolve)));
  return {
    server,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const grace = setTimeout(() => server.closeAllConnections(), requestGraceMs);
      await allHandled();
      clearTimeout(grace);
      server.closeAllConnections();
      await closed;
    },
  };
}
