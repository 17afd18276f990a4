import { accessSync, constants } from "node:fs";
import { z } from "zod";

/**
 * The `redis` section: where the relay keeps every accepted event. One Redis (`url`), a Redis
 * Cluster (`cluster.nodes`) or a primary with replicas watched by Sentinel (`sentinel`); TLS
 * where an address says `rediss://`, with `tls` files for a private CA or client certificates.
 * src/redis/connector.ts builds every connection from what is parsed here.
 */

export const defaultRedisUrl = "redis://127.0.0.1:6379";

/** `redis://[user:password@]host:port`, `rediss://…`, or a bare `host:port` (plain TCP). */
const address = z
  .string()
  .regex(/^(rediss?:\/\/\S+|[^\s:/]+:\d+)$/, "use host:port, or a redis:// or rediss:// URL")
  .refine((value) => !/^rediss?:\/\//.test(value) || URL.canParse(value), "not a valid URL");

const readableFile = z
  .string()
  .min(1, "must not be empty")
  .refine((path) => {
    try {
      accessSync(path, constants.R_OK);
      return true;
    } catch {
      return false;
    }
  }, "cannot read this file (a path relative to the working directory)");

/**
 * A prefix with braces must be one whole hash tag, `{name}`: on Redis Cluster only the part
 * between the first `{` and the next `}` picks a key's slot, and BullMQ's scripts need every
 * key of the relay in one slot. `a{b`, `{}a` or `{a}{b}` would scatter them (CROSSSLOT errors).
 */
const prefix = z
  .string()
  .regex(/^(\{[A-Za-z0-9][A-Za-z0-9_-]*\}|[A-Za-z0-9][A-Za-z0-9_-]*)$/, {
    error: (issue) =>
      typeof issue.input === "string" && /[{}]/.test(issue.input)
        ? "write the prefix without braces (or as one whole {name}): on Redis Cluster the relay wraps it in a hash tag itself, {relay}, so that every key it writes is in one slot, as BullMQ's scripts need"
        : "use letters, digits, - and _",
  })
  .default("relay");

export const redisSchema = z
  .strictObject({
    /**
     * One Redis: `redis://` or `rediss://` (TLS), `user:password@` for ACL users; or
     * `embedded`. Default redis://127.0.0.1:6379; leave it out with `cluster` or `sentinel`.
     */
    url: z
      .string()
      .regex(/^(rediss?:\/\/|embedded$)/, "use a redis:// or rediss:// URL, or embedded")
      .optional(),
    /** Where an embedded Redis keeps its data (relative to the working directory). */
    dataDir: z.string().min(1, "must not be empty").default("data/redis"),
    /** Namespaces every key, so several relays can share one Redis; wrapped as `{relay}` on a Cluster. */
    prefix,
    /** Files for TLS (`rediss://` addresses): a private CA, a client certificate and key, the name to check. */
    tls: z
      .strictObject({
        ca: readableFile.optional(),
        cert: readableFile.optional(),
        key: readableFile.optional(),
        /** The name the server's certificate must carry, when it differs from the host connected to. */
        servername: z.string().min(1).optional(),
      })
      .refine((tls) => (tls.cert === undefined) === (tls.key === undefined), "give cert and key together")
      .optional(),
    /** A Redis Cluster: a few of its nodes; the others are found from them. */
    cluster: z
      .strictObject({
        nodes: z.array(address).min(1, "name at least one node"),
      })
      .optional(),
    /** A primary and its replicas, watched by Redis Sentinel. */
    sentinel: z
      .strictObject({
        /** The primary's name in the sentinels' config (`sentinel monitor <name> …`). */
        name: z.string().min(1, "must not be empty"),
        /** A few sentinels; `redis://:password@host:port` when the sentinels themselves ask for one. */
        sentinels: z.array(address).min(1, "name at least one sentinel"),
        /** ACL user of the primary and replicas (default: the default user). */
        username: z.string().min(1).optional(),
        /** Password of the primary and replicas. */
        password: z.string().min(1).optional(),
      })
      .optional(),
  })
  .superRefine((redis, ctx) => {
    const shapes = (["url", "cluster", "sentinel"] as const).filter((key) => redis[key] !== undefined);
    if (shapes.length > 1) {
      ctx.addIssue({
        code: "custom",
        path: [shapes[1] as string],
        message: `set one of redis.url, redis.cluster and redis.sentinel, not ${shapes.join(" and ")}: each names a whole Redis`,
      });
    }
    const usesTls = [redis.url ?? "", ...(redis.cluster?.nodes ?? []), ...(redis.sentinel?.sentinels ?? [])].some(
      (item) => item.startsWith("rediss://"),
    );
    if (redis.tls && !usesTls) {
      ctx.addIssue({
        code: "custom",
        path: ["tls"],
        message: "no address uses rediss://, so these files would not be used: write rediss:// to turn TLS on",
      });
    }
    for (const [key, list] of [
      ["cluster", redis.cluster?.nodes],
      ["sentinel", redis.sentinel?.sentinels],
    ] as const) {
      const schemes = new Set((list ?? []).map((item) => (item.startsWith("rediss://") ? "rediss" : "redis")));
      if (schemes.size > 1) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "use rediss:// for every address or for none: TLS is on or off for the whole Redis",
        });
      }
    }
  })
  .transform(({ url, ...rest }) => ({
    ...rest,
    url: url ?? defaultRedisUrl,
    // BullMQ's scripts touch many keys of a queue at once, which a Cluster allows only within
    // one slot: the hash tag puts every key of the relay (queues and its own) in the same one.
    prefix: rest.cluster && !rest.prefix.startsWith("{") ? `{${rest.prefix}}` : rest.prefix,
  }))
  .prefault({});

export type RedisSettings = z.infer<typeof redisSchema>;
