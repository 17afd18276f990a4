import { Writable } from "node:stream";
import { parseConfig } from "../../src/config/load.js";
import type { Config } from "../../src/config/schema.js";
import { createLogger } from "../../src/log.js";
import { type Role, type RunningRelay, startRelay } from "../../src/serve.js";

export interface TestRelay extends RunningRelay {
  url: string;
  config: Config;
  /** Every log line the relay wrote, as text: tests read it to prove what is (not) logged. */
  logs: string[];
}

/**
 * A whole relay in this process, from YAML as a user would write it, listening on a free port.
 * Each test gets its own Redis key prefix, so tests sharing one redis-server cannot see each
 * other's jobs.
 */
export async function startTestRelay(
  yaml: string,
  options: { env?: NodeJS.ProcessEnv; role?: Role } = {},
): Promise<TestRelay> {
  const config = parseConfig(yaml, "test.yaml", options.env ?? {});
  config.server.port = 0;
  config.server.host = "127.0.0.1";
  // Relays in role worker must not fight over the default ops port, unless a test names one.
  if (!/\bopsPort\b/.test(yaml)) config.workers.opsPort = 0;
  const logs: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const relay = await startRelay(config, {
    role: options.role ?? "all",
    logger: createLogger({ level: "debug", destination }),
  });
  return { ...relay, url: relay.url ?? "", config, logs };
}

let prefixCounter = 0;
/** A Redis key prefix no other test in this run uses. */
export function uniquePrefix(): string {
  prefixCounter += 1;
  return `test${process.pid}x${prefixCounter}`;
}
