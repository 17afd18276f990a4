import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";
import { type HttpSink, startHttpSink } from "./http-sink.js";

/** A relay config with `redis.url: embedded` in a data folder of its own, delivering to an HTTP sink. */
export interface EmbeddedRelaySetup {
  readonly sink: HttpSink;
  readonly dataDir: string;
  /** The YAML: Socialboards in (`?token=t0ken-for-tests`), every event to the sink. */
  config(): string;
}

/** For the enclosing describe: the sink and the data folder, made before its tests and removed after. */
export function useEmbeddedRelay(name: string): EmbeddedRelaySetup {
  let sink: HttpSink | undefined;
  let dataDir: string | undefined;
  beforeAll(async () => {
    sink = await startHttpSink();
    dataDir = mkdtempSync(join(tmpdir(), `relay-${name}-`));
  });
  afterAll(async () => {
    await sink?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  const started = () => {
    if (!sink || !dataDir) throw new Error("useEmbeddedRelay: read it inside a hook or a test");
    return { sink, dataDir };
  };
  return {
    get sink() {
      return started().sink;
    },
    get dataDir() {
      return started().dataDir;
    },
    config: () => `
server: { port: 0, host: 127.0.0.1 }
redis: { url: embedded, dataDir: "${started().dataDir}" }
allowPrivateNetwork: true
sources:
  socialboards: { type: socialboards, verifyToken: v, urlToken: t0ken-for-tests }
targets:
  crm: { type: http, url: "${started().sink.url}/hooks" }
routes:
  - to: [crm]
`,
  };
}
