import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { connect, type Socket } from "node:net";

export interface RawConnection {
  socket: Socket;
  /** Writes bytes exactly as given: a test controls what a client announces and what it sends. */
  write(text: string): void;
  /** Everything the server sent so far, as text. */
  received(): string;
  /**
   * Resolves with how many ms it took the server to end or close the connection, counted from
   * this call; rejects when it is still open after `timeoutMs`.
   */
  closedWithin(timeoutMs: number): Promise<number>;
}

/**
 * A plain TCP connection to an HTTP server, for what fetch() hides: a body that never finishes,
 * a Content-Length that lies, and whether the server closes the socket.
 */
export function connectRaw(baseUrl: string): Promise<RawConnection> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname);
    let text = "";
    let closed = false;
    socket.setEncoding("utf8");
    socket.on("data", (chunk: string) => {
      text += chunk;
    });
    // A server that closes while we still send may reset the connection: that is closed too.
    socket.on("error", () => undefined);
    const markClosed = () => {
      closed = true;
    };
    socket.once("end", markClosed);
    socket.once("close", markClosed);
    socket.once("connect", () =>
      resolve({
        socket,
        write: (bytes) => socket.write(bytes),
        received: () => text,
        closedWithin(timeoutMs) {
          const started = Date.now();
          if (closed) return Promise.resolve(0);
          return new Promise((done, fail) => {
            const timer = setTimeout(() => {
              socket.destroy();
              fail(new Error(`connection still open after ${timeoutMs} ms; received: ${text.slice(0, 200)}`));
            }, timeoutMs);
            const finish = () => {
              clearTimeout(timer);
              done(Date.now() - started);
            };
            socket.once("end", finish);
            socket.once("close", finish);
          });
        },
      }),
    );
    socket.once("error", reject);
  });
}

export interface PlainResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** One request with node:http, which (unlike fetch) sends any method, TRACE included. */
export function requestWithMethod(baseUrl: string, method: string, path: string): Promise<PlainResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(`${baseUrl}${path}`, { method, agent: false }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body }));
    });
    request.on("error", reject);
    request.end();
  });
}
