import { Redis } from "ioredis";
import { afterAll, beforeAll } from "vitest";
import { type RedisServer, startRedisServer } from "./redis.js";

/** The test's Redis as `useRedis` hands it out: the server's url, port, stop and start, and a client to it. */
export interface TestRedis extends RedisServer {
  /** One ioredis client to the server, opened on first use and closed after the tests. */
  readonly client: Redis;
}

/**
 * A redis-server for the tests of the enclosing `describe`: started before them, stopped
 * after them. Call it before the describe's other hooks: hooks run in the order they were
 * registered and after-hooks in reverse (vitest's "stack"), so the relay, queues and servers
 * a file starts on this Redis are up after it and closed before it stops.
 *
 * Read it inside hooks and tests, not while the describe is collected: the server does not
 * run yet then.
 */
export function useRedis(): TestRedis {
  let server: RedisServer | undefined;
  let client: Redis | undefined;
  const started = () => {
    if (!server) throw new Error("useRedis: Redis is not started yet; read it inside a hook or a test");
    return server;
  };

  beforeAll(async () => {
    server = await startRedisServer();
  });
  afterAll(async () => {
    client?.disconnect();
    await server?.stop();
  });

  return {
    get url() {
      return started().url;
    },
    get port() {
      return started().port;
    },
    get client() {
      client ??= new Redis(started().url);
      return client;
    },
    stop: () => started().stop(),
    start: () => started().start(),
  };
}
