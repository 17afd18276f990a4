import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { attachBodyShare, BodyBudget } from "./body-budget.js";

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

/** What one server allows its clients (the `server` section of the config). */
export interface ServerLimits {
  /** A request whose header block is not complete after this long is answered 408 and cut. */
  headersTimeout: number;
  /** A request not received in full (headers and body) after this long is answered 408 and cut. */
  requestTimeout: number;
  /** Connections open at once; one more is closed as it arrives. */
  maxConnections: number;
  /** Request body bytes held at once across all requests (http/body-budget.ts); 0: no budget. */
  maxBodyBytesInFlight: number;
}

/**
 * For a server without a `server` section of its own (the worker's ops server, which reads no
 * bodies): the defaults of `server` in config/schema.ts.
 */
const opsLimits: ServerLimits = {
  headersTimeout: 10_000,
  requestTimeout: 30_000,
  maxConnections: 1024,
  maxBodyBytesInFlight: 0,
};

/**
 * Node looks for requests past headersTimeout or requestTimeout only every
 * `connectionsCheckingInterval` (30 s by default), so a 10 s headersTimeout cut a stalled header
 * block after up to 40 s. A tenth of the shorter timeout, at most a second, makes them hold
 * within that margin; each check is one walk over the open connections.
 */
function checkingIntervalMs(limits: ServerLimits): number {
  const shortest = Math.min(limits.headersTimeout, limits.requestTimeout);
  return Math.min(1000, Math.max(50, Math.floor(shortest / 10)));
}

/** An HTTP server for the ingest role, with a shutdown that a slow client cannot hold up. */
export async function listen(
  callback: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  port: number,
  host: string,
  limits: ServerLimits = opsLimits,
): Promise<Listening> {
  // Counts handlers, not sockets: a handler may still be storing a webhook after its client
  // has gone, and the Redis connection must outlive it.
  let handling = 0;
  let idle: (() => void) | undefined;
  const budget = limits.maxBodyBytesInFlight > 0 ? new BodyBudget(limits.maxBodyBytesInFlight) : undefined;
  // Slow or stalled clients must not hold sockets forever.
  const server = createServer(
    {
      headersTimeout: limits.headersTimeout,
      requestTimeout: limits.requestTimeout,
      connectionsCheckingInterval: checkingIntervalMs(limits),
    },
    (req, res) => {
      handling += 1;
      const share = budget?.share();
      if (share) attachBodyShare(req, share);
      // The body bytes stay referenced until the handler is done (parsed, stored), not only
      // until they are read: the share is given back then, whether it answered, failed or the
      // client went away.
      callback(req, res).finally(() => {
        share?.release();
        handling -= 1;
        if (handling === 0) idle?.();
      });
    },
  );
  // Each connection costs a socket, its buffers and a file descriptor, whatever it sends.
  server.maxConnections = limits.maxConnections;
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
