import { readFileSync } from "node:fs";
import type { ConnectionOptions as TlsOptions } from "node:tls";
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";
import type { RedisSettings } from "../config/redis-schema.js";

/** A connection to the relay's Redis, whichever shape it has: one server, a Cluster, or Sentinel's primary. */
export type RedisClient = Redis | Cluster;

/** What a connection needs from the config: `redis.url` alone, or the whole `redis` section. */
export type ConnectionSettings = Pick<RedisSettings, "url"> &
  Partial<Pick<RedisSettings, "tls" | "cluster" | "sentinel">>;

/**
 * How a connection behaves while Redis is away. Each user of Redis needs one of three:
 * - `ingest` answers a webhook within seconds, so no offline queue and one retry: a command
 *   issued while Redis is away fails at once (503, and the platform sends again) instead of
 *   waiting in memory for a reconnect, which would give a 200 for an event not yet stored;
 * - `worker` waits through an outage: BullMQ's blocking commands need
 *   `maxRetriesPerRequest: null` (BullMQ refuses a worker connection without it);
 * - `command` (`dlq`, `targets`, `try`) answers a person or a script: one attempt, a bound
 *   on every command, no reconnect.
 */
export type ConnectionRole = "ingest" | "worker" | "command";

interface Behaviour {
  common: RedisOptions;
  /** Reconnect delay; null: do not reconnect. */
  retry: (times: number) => number | null;
  offlineQueue: boolean;
}

const behaviours: Record<ConnectionRole, Behaviour> = {
  ingest: {
    common: { maxRetriesPerRequest: 1, connectTimeout: 2000 },
    // Keep trying to come back, never more than 2 s apart, for as long as the process lives.
    retry: (times) => Math.min(100 * times, 2000),
    offlineQueue: false,
  },
  worker: {
    common: { maxRetriesPerRequest: null },
    retry: (times) => Math.min(200 * times, 5000),
    offlineQueue: true,
  },
  command: {
    common: { lazyConnect: true, maxRetriesPerRequest: 0, connectTimeout: 3000, commandTimeout: 10_000 },
    retry: () => null,
    offlineQueue: false,
  },
};

/**
 * The one place that turns the `redis` section into connections: ingest, workers, metrics,
 * the admin API and the commands all get theirs here, so each Redis shape (one server, a
 * Cluster, Sentinel) and TLS work the same for every one of them.
 */
export class RedisConnector {
  /** Where Redis is, for log lines and messages: no password in it. */
  readonly where: string;
  readonly #settings: ConnectionSettings;
  readonly #tls: TlsOptions | undefined;

  constructor(settings: ConnectionSettings) {
    this.#settings = settings;
    this.#tls = tlsOptions(settings);
    this.where = describe(settings);
  }

  connect(role: ConnectionRole): RedisClient {
    const { cluster, sentinel, url } = this.#settings;
    const behaviour = behaviours[role];
    if (cluster) return this.#cluster(cluster.nodes, behaviour);
    if (sentinel) return this.#sentinel(sentinel, behaviour);
    return new Redis(url, {
      ...behaviour.common,
      enableOfflineQueue: behaviour.offlineQueue,
      retryStrategy: behaviour.retry,
      ...(this.#tls && { tls: this.#tls }),
    });
  }

  #cluster(nodes: readonly string[], behaviour: Behaviour): Cluster {
    const addresses = nodes.map((node) => parseAddress(node, 6379));
    // Every node is reached with the same credentials: those of the first node that has any.
    const { username, password } = addresses.find((address) => address.password !== undefined) ?? {};
    const { lazyConnect, ...perNode } = behaviour.common;
    const options: ClusterOptions = {
      enableOfflineQueue: behaviour.offlineQueue,
      clusterRetryStrategy: behaviour.retry,
      lazyConnect,
      redisOptions: {
        ...perNode,
        ...(username && { username }),
        ...(password !== undefined && { password }),
        ...(this.#tls && { tls: this.#tls }),
      },
      // With TLS, nodes are reached by the names given, so that their certificates match
      // (managed Clusters hand out names, and certificates for those names).
      ...(this.#tls && {
        dnsLookup: (address: string, done: (error: null, address: string) => void) => done(null, address),
      }),
    };
    return new Cluster(
      addresses.map(({ host, port }) => ({ host, port })),
      options,
    );
  }

  #sentinel(sentinel: NonNullable<RedisSettings["sentinel"]>, behaviour: Behaviour): Redis {
    const sentinels = sentinel.sentinels.map((address) => parseAddress(address, 26379));
    const own = sentinels.find((address) => address.password !== undefined);
    return new Redis({
      ...behaviour.common,
      name: sentinel.name,
      sentinels: sentinels.map(({ host, port }) => ({ host, port })),
      ...(sentinel.username && { username: sentinel.username }),
      ...(sentinel.password && { password: sentinel.password }),
      ...(own?.username && { sentinelUsername: own.username }),
      ...(own?.password !== undefined && { sentinelPassword: own.password }),
      ...(this.#tls && { tls: this.#tls, sentinelTLS: this.#tls, enableTLSForSentinelMode: true }),
      enableOfflineQueue: behaviour.offlineQueue,
      retryStrategy: behaviour.retry,
      sentinelRetryStrategy: behaviour.retry,
      // No `failoverDetector`: its disconnect can land in the middle of a reconnect and end the
      // connection for good (seen with ioredis 6). A dead primary closes the connection anyway,
      // and a primary demoted to replica answers writes with READONLY: then ask the sentinels again.
      reconnectOnError: (error) => error.message.startsWith("READONLY"),
    });
  }
}

/** TLS options when any address says rediss://: the `redis.tls` files read once, at start. */
function tlsOptions(settings: ConnectionSettings): TlsOptions | undefined {
  const addresses = settings.cluster?.nodes ?? settings.sentinel?.sentinels ?? [settings.url];
  if (!addresses.some((address) => address.startsWith("rediss://"))) return undefined;
  const files = settings.tls ?? {};
  return {
    ...(files.ca && { ca: readFileSync(files.ca) }),
    ...(files.cert && { cert: readFileSync(files.cert) }),
    ...(files.key && { key: readFileSync(files.key) }),
    ...(files.servername && { servername: files.servername }),
  };
}

interface Address {
  host: string;
  port: number;
  username?: string;
  password?: string;
}

/** `host:port`, or a redis:// or rediss:// URL with `user:password@` if any. */
export function parseAddress(address: string, defaultPort: number): Address {
  const url = new URL(/^rediss?:\/\//.test(address) ? address : `redis://${address}`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ""),
    port: url.port ? Number(url.port) : defaultPort,
    ...(url.username && { username: decodeURIComponent(url.username) }),
    ...(url.password && { password: decodeURIComponent(url.password) }),
  };
}

/** A Redis URL fit for a log line or a message: the password left out. */
export function redisUrlWithoutPassword(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*):[^@/]*@/, "$1:…@");
}

function describe(settings: ConnectionSettings): string {
  const list = (addresses: readonly string[]) => addresses.map(redisUrlWithoutPassword).join(", ");
  if (settings.cluster) return `the Redis Cluster at ${list(settings.cluster.nodes)}`;
  if (settings.sentinel)
    return `the primary "${settings.sentinel.name}" of the sentinels at ${list(settings.sentinel.sentinels)}`;
  return redisUrlWithoutPassword(settings.url);
}
