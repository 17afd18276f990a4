import type { AddressInfo } from "node:net";
import type { Config } from "./config/schema.js";
import { createHttpApp } from "./http/app.js";
import { listen } from "./http/server.js";
import type { Logger } from "./log.js";
import { DeadLetters } from "./queue/dead-letters.js";
import { startDeliveryWorker } from "./queue/delivery-worker.js";
import { Intake } from "./queue/intake.js";
import { openDeliveryQueue, relayKeys } from "./queue/queues.js";
import { startRoutingWorker } from "./queue/routing-worker.js";
import { createIngestConnection } from "./redis/connections.js";
import { compileRoutes } from "./routing/router.js";
import { createSources } from "./sources/registry.js";
import { createTargets } from "./targets/registry.js";

/**
 * `ingest` receives webhooks and stores them; `worker` routes and delivers them; `all` does
 * both in one process. Ingest and workers share nothing but Redis, so any number of each can
 * run on any number of machines.
 */
export type Role = "all" | "ingest" | "worker";
export const roles: readonly Role[] = ["all", "ingest", "worker"];

const startupWaitMs = 5000;

export interface RunningRelay {
  /** Where ingest listens, e.g. http://127.0.0.1:8080 (ingest and all only). */
  url?: string;
  close(): Promise<void>;
}

export async function startRelay(config: Config, options: { role?: Role; logger: Logger }): Promise<RunningRelay> {
  const { logger } = options;
  const role = options.role ?? "all";
  const sources = createSources(config);
  const closers: (() => Promise<void>)[] = [];
  let url: string | undefined;

  for (const source of sources.values()) {
    const settings = config.sources[source.id];
    if ((settings?.type === "socialboards" || settings?.type === "sonar") && !settings.urlToken) {
      logger.warn({ source: source.id }, "no urlToken: anyone who knows the URL can post events to this source");
    }
  }

  if (role === "all" || role === "worker") {
    const targets = createTargets(config);
    const router = compileRoutes(config.routes);
    const routing = startRoutingWorker({ config, sources, router, logger });
    const delivery = startDeliveryWorker({ config, targets, logger });
    closers.push(async () => {
      // Workers take no new job from here on and finish the ones in hand, so nothing they
      // started is left for another worker to send again.
      await Promise.all([routing.close(), delivery.close()]);
      await Promise.all([...targets.values()].map((target) => target.close?.()));
    });
  }

  if (role === "all" || role === "ingest") {
    const redis = createIngestConnection(config.redis.url);
    let redisDown = false;
    redis.on("error", (error) => {
      // One line per outage, not one per reconnect attempt.
      if (!redisDown) {
        logger.error(
          { err: error.message, redis: withoutPassword(config.redis.url) },
          "Redis unreachable; webhooks get 503 until it is back. Is Redis running at redis.url (REDIS_URL)? Unset REDIS_URL to let the relay run its own",
        );
      }
      redisDown = true;
    });
    redis.on("ready", () => {
      if (redisDown) logger.info("Redis reachable again");
      redisDown = false;
    });
    const intake = new Intake(redis, config.redis.prefix, logger, {
      dedupWindowMs: (sourceId) => config.sources[sourceId]?.dedupe.window ?? 0,
    });
    // Take webhooks only once they can be stored; if Redis is down at start, serve 503s meanwhile.
    if (!(await intake.waitUntilReady(startupWaitMs))) {
      logger.warn({ waitedMs: startupWaitMs }, "starting without Redis; webhooks get 503 until it is reachable");
    }
    // The admin API works on dead letters through ingest's connection: it fails fast, as webhooks do.
    const { token } = config.admin;
    const deliveries = token ? openDeliveryQueue(config.redis, redis) : undefined;
    deliveries?.on("error", (error) => logger.warn({ err: error.message }, "delivery queue error (admin API)"));
    const deadLetters = deliveries && new DeadLetters(deliveries, relayKeys(config.redis.prefix), config.targets);
    const admin = token && deadLetters ? { token, deadLetters } : undefined;
    const { bodyLimit, maxEventsPerWebhook } = config.server;
    const app = createHttpApp({ sources, intake, logger, bodyLimit, maxEventsPerWebhook, admin });
    const http = await listen(app.callback(), config.server.port, config.server.host);
    const { port } = http.server.address() as AddressInfo;
    url = `http://${config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host}:${port}`;
    logger.info({ port, sources: [...sources.keys()] }, "listening for webhooks");
    closers.push(async () => {
      await http.close();
      // Only once no request is left that could still be storing a webhook.
      await intake.close();
      await deliveries?.close();
      redis.disconnect();
    });
  }

  logger.info({ role, targets: Object.keys(config.targets), routes: config.routes.length }, "relay started");
  return {
    url,
    /** Stops intake and workers together: neither waits for the other to finish first. */
    async close() {
      await Promise.all(closers.map((close) => close()));
    },
  };
}

/** A Redis URL fit for a log line: the password left out. */
function withoutPassword(url: string): string {
  return url.replace(/^(rediss?:\/\/[^:@/]*):[^@/]*@/, "$1:…@");
}
