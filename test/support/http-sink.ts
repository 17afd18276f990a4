import { createServer } from "node:http";
import { closeServer, listen, readBody } from "./listen.js";
import { waitForCount } from "./wait.js";

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed as JSON, when it is JSON. */
  json?: unknown;
}

export interface ScriptedResponse {
  status: number;
  body?: string;
  headers?: Record<string, string>;
  /** Waits this long before answering, to drive a target into its timeout. */
  delayMs?: number;
}

export interface HttpSink {
  url: string;
  requests: ReceivedRequest[];
  /** TCP connections accepted so far: proves that a refused target never even connected. */
  readonly connections: number;
  /** The next requests get these answers, in order; after them, 200 `{"ok":true}` again. */
  respondWith(...responses: ScriptedResponse[]): void;
  waitForRequests(count: number, timeoutMs?: number): Promise<ReceivedRequest[]>;
  /** Forgets what was received and any scripted answers not yet used, between tests. */
  reset(): void;
  close(): Promise<void>;
}

/** A real HTTP endpoint that records every request an HTTP target makes and answers as scripted. */
export async function startHttpSink(): Promise<HttpSink> {
  const requests: ReceivedRequest[] = [];
  const script: ScriptedResponse[] = [];
  let connections = 0;

  const server = createServer(async (request, response) => {
    const body = await readBody(request);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      json = undefined;
    }
    const url = new URL(request.url ?? "/", "http://sink");
    requests.push({ method: request.method ?? "", path: url.pathname, headers: request.headers, body, json });

    const answer = script.shift() ?? { status: 200, body: '{"ok":true}' };
    if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
    if (response.destroyed) return;
    response.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
    response.end(answer.body ?? JSON.stringify({ status: answer.status }));
  });

  server.on("connection", () => {
    connections += 1;
  });
  const url = await listen(server);
  return {
    url,
    requests,
    get connections() {
      return connections;
    },
    respondWith: (...responses) => script.push(...responses),
    waitForRequests: (count, timeoutMs) => waitForCount(requests, count, "HTTP requests", timeoutMs),
    reset() {
      requests.length = 0;
      script.length = 0;
      connections = 0;
    },
    close: () => closeServer(server),
  };
}
