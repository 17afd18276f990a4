import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/**
 * An HTTP target for the fault tests that keeps only what they count: which event reached
 * which path, how often. It can refuse connections for a while (the port closed, open
 * connections cut) and come back on the same port.
 */
export interface CountingSink {
  url: string;
  /** path → event number → deliveries received. */
  readonly received: Map<string, Map<number, number>>;
  /** Closes the port and cuts every connection: the relay's next try is refused. */
  refuse(): Promise<void>;
  /** Listens on the same port again. */
  accept(): Promise<void>;
  close(): Promise<void>;
}

export async function startCountingSink(markerOf: (json: unknown) => number | undefined): Promise<CountingSink> {
  const received = new Map<string, Map<number, number>>();
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      let marker: number | undefined;
      try {
        marker = markerOf(JSON.parse(Buffer.concat(chunks).toString("utf8")));
      } catch {
        marker = undefined;
      }
      const path = new URL(request.url ?? "/", "http://sink").pathname;
      if (marker !== undefined) {
        const byEvent = received.get(path) ?? new Map<number, number>();
        received.set(path, byEvent);
        byEvent.set(marker, (byEvent.get(marker) ?? 0) + 1);
      }
      response.writeHead(200, { "content-type": "application/json" });
      response.end('{"ok":true}');
    });
  });
  const listenOn = (port: number) =>
    new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve();
      });
    });
  await listenOn(0);
  const { port } = server.address() as AddressInfo;
  const stop = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    refuse: stop,
    accept: () => listenOn(port),
    close: () => (server.listening ? stop() : Promise.resolve()),
  };
}
