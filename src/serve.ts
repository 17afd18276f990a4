import type { AddressInfo } from "node:net";
import type { Config } from "./config/schema.js";
import { History } from "./history/history.js";
import { historyTools } from "./history/history-tools.js";
import { createHttpApp, type HttpAppDeps } from "./http/app.js";
import { consoleMiddleware } from "./http/console/console.js";
import { consolePages } from "./http/console/pages/index.js";
import { startOpsServer } from "./http/ops.js";
import { listen } from "./http/server.js";
import { type Logger, throttledWarning } from "./log.js";
import { metricsEndpoint } from "./metrics/endpoint.js";
import { registerHistoryGauges } from "./metrics/history-metrics.js";
import { registerMuteGauge } from "./metrics/mute-metrics.js";
import { createRelayMetrics, type QueueSnapshot } from "./metrics/relay-metrics.js";
import { DeadLetters } from "./queue/dead-letters.js";
import { startDeliveryWorker } from "./queue/delivery/delivery-worker.js";
import { DisabledTargets } from "./queue/disabled-targets.js";
import { Intake } from "./queue/inbound/intake.js";
import { startRoutingWorker } from "./queue/inbound/routing-worker.js";
import { WebhookStream } from "./queue/inbound/webhook-stream.js";
import { Mutes, muteSubjects } from "./queue/mutes.js";
import { QueueDepths } from "./queue/queue-depths.js";
import { openDeliveryQueue, relayKeys } from "./queue/queues.js";
import { createIngestConnection, redisAnswers } from "./redis/connections.js";
import { RedisConnector } from "./redis/connector.js";
import { buildParts, LiveParts, type RelayParts } from "./relay-parts.js";
import { type IngestSpool, openIngestSpool } from "./spool/ingest-spool.js";

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
  /** Where the worker role's ops server listens: /healthz, /readyz and /metrics (worker only). */
  opsUrl?: string;
  /**
   * Puts a new config's sources, routes, targets and retry policies in force, atomically;
   * what only a restart can change (server, redis, workers, admin) is named in the answer.
   */
  reload(config: Config): { restartNeededFor: string[] };
  /** Counts a config file that could not be put in force (`ticket_relay_config_reloads_total`). */
  reloadRefused(): void;
  /** The history's recording, when it is on: looks at Redis's memory now rather than in up to 5 s. */
  history?: Pick<History, "lookAtMemory">;
  close(): Promise<void>;
}

/** Sections a running relay reads once, at start. */
const readAtStart = ["server", "redis", "workers", "admin", "spool", "history"] as const;

export async function startRelay(
  config: Config,
  options: {
    role?: Role;
    logger: Logger;
    /** The config's file, for the console's config page. */
    configFile?: string;
  },
): Promise<RunningRelay> {
  const { logger } = options;
  const role = options.role ?? "all";
  const delivers = role === "all" || role === "worker";
  const live = new LiveParts(buildParts(config, { withTargets: delivers }), logger);
  const parts = () => live.current;
  const closers: (() => Promise<void>)[] = [];
  // What answers /readyz and /metrics stays up until everything else has stopped.
  const lastClosers: (() => Promise<void>)[] = [];
  const closeAll = async () => {
    await Promise.all(closers.map((close) => close()));
    await Promise.all(lastClosers.map((close) => close()));
  };
  let stopping = false;
  let url: string | undefined;
  let opsUrl: string | undefined;
  warnOfOpenSources(config, logger);

  // One registry per relay. Queue depths are read at scrape time on a connection of their own
  // that fails fast, as ingest's does: a scrape must never wait for Redis to come back.
  const metricsRedis = createIngestConnection(config.redis);
  metricsRedis.on("error", () => undefined); // ticket_relay_redis_up and /readyz report it
  const queueDepths = new QueueDepths(metricsRedis, config.redis);
  let spool: IngestSpool | undefined;
  const metrics = createRelayMetrics({ readQueues: () => queueDepths.read(), readSpool: () => spool?.depth() });
  const mutesNow = new Mutes(metricsRedis, relayKeys(config.redis.prefix));
  registerMuteGauge(metrics.registry, () => mutesNow.active());
  const endpoint = metricsEndpoint(metrics.registry);
  lastClosers.push(async () => {
    await queueDepths.close();
    metricsRedis.disconnect();
  });

  // What is kept of every webhook and delivery (history/), looked after on the metrics' connection.
  const history = config.history.enabled
    ? new History(config.history, config.redis.prefix, metricsRedis, logger)
    : undefined;
  if (history) {
    registerHistoryGauges(metrics.registry, () => history.stats());
    history.start();
    lastClosers.push(async () => history.stop());
  }

  if (delivers) {
    const routing = startRoutingWorker({
      config,
      parts,
      logger,
      metrics: metrics.events,
      history: history && ((redis) => history.routing(redis)),
    });
    const delivery = startDeliveryWorker({
      config,
      parts,
      logger,
      metrics: metrics.deliveries,
      history: history && ((redis) => history.deliveries(redis)),
    });
    closers.push(async () => {
      // Workers take no new job from here on and finish the ones in hand, so nothing they
      // started is left for another worker to send again; past shutdownTimeout they are left
      // to another worker (their locks run out), rather than holding the process.
      const finished = Promise.all([routing.close(), delivery.close()]);
      const timeoutMs = config.workers.shutdownTimeout;
      let timer: NodeJS.Timeout | undefined;
      const gaveUp = new Promise<"gave up">((done) => {
        timer = setTimeout(() => done("gave up"), timeoutMs);
      });
      if ((await Promise.race([finished, gaveUp])) === "gave up") {
        logger.warn({ timeoutMs }, "deliveries still in hand at shutdownTimeout; another worker takes them over");
      }
      clearTimeout(timer);
      await live.close();
    });
  }

  if (role === "all" || role === "ingest") {
    const scrapes = { webhooks: metrics.webhooks, endpoint };
    const readQueues = () => queueDepths.read().catch(() => undefined);
    const ingest = await startIngest(
      config,
      parts,
      () => stopping,
      logger,
      scrapes,
      history,
      readQueues,
      options,
    ).catch(async (error: Error) => {
      // Whatever started already must not keep the process half-running.
      await closeAll();
      throw error;
    });
    url = ingest.url;
    spool = ingest.spool;
    closers.push(ingest.close);
  }

  // Role all serves these on the ingest port; a worker alone has no port, so it gets its own.
  if (role === "worker") {
    const { opsPort: port } = config.workers;
    const ops = await startOpsServer({
      port,
      host: config.server.host,
      logger,
      redisAnswers: () => redisAnswers(metricsRedis),
      stopping: () => stopping,
      metrics: endpoint,
    }).catch(async (error: NodeJS.ErrnoException) => {
      await closeAll();
      throw new StartupError(listenFailure(error, config, port, "workers.opsPort"));
    });
    opsUrl = ops.url;
    lastClosers.push(ops.close);
  }

  logger.info({ role, targets: Object.keys(config.targets), routes: config.routes.length }, "relay started");
  return {
    url,
    opsUrl,
    history,
    reload(next) {
      const restartNeededFor = readAtStart.filter(
        (section) => JSON.stringify(next[section]) !== JSON.stringify(config[section]),
      );
      // Redis as the relay started it: a reload does not move the queues.
      live.swap(buildParts({ ...next, redis: config.redis }, { withTargets: delivers }));
      warnOfOpenSources(next, logger);
      logger.info(
        { targets: Object.keys(next.targets), routes: next.routes.length, restartNeededFor },
        "config reloaded",
      );
      metrics.reloads("ok");
      return { restartNeededFor: [...restartNeededFor] };
    },
    reloadRefused: () => metrics.reloads("refused"),
    /** Stops intake and workers together: neither waits for the other to finish first. */
    async close() {
      stopping = true;
      await closeAll();
    },
  };
}

/** Takes webhooks: Koa app, HTTP server, and the Redis connection they are stored through. */
async function startIngest(
  config: Config,
  parts: () => RelayParts,
  stopping: () => boolean,
  logger: Logger,
  metrics: HttpAppDeps["metrics"],
  history: History | undefined,
  readQueues: () => Promise<QueueSnapshot | undefined>,
  options: { configFile?: string },
) {
  const redis = createIngestConnection(config.redis);
  const where = new RedisConnector(config.redis).where;
  let redisDown = false;
  redis.on("error", (error) => {
    // One line per outage, not one per reconnect attempt.
    if (!redisDown) {
      logger.error(
        { err: error, redis: where },
        "Redis unreachable; webhooks get 503 (or go to the spool) until it is back. Is Redis running at redis.url (REDIS_URL)? Unset REDIS_URL to let the relay run its own",
      );
    }
    redisDown = true;
  });
  redis.on("ready", () => {
    if (redisDown) logger.info("Redis reachable again");
    redisDown = false;
  });
  // With a spool, webhooks Redis cannot take are written to disk and drained later (spool/).
  // One owner of the webhook stream in this process: ingest and the spool drainer store through it.
  const keys = relayKeys(config.redis.prefix);
  const stream = new WebhookStream(redis, keys, history?.duplicateCount());
  const refusals = history?.recorderOn(redis);
  const spool = await openSpool(config, redis, stream, logger);
  const intake = new Intake(redis, stream, {
    dedupWindowMs: (sourceId) => parts().config.sources[sourceId]?.dedupe.window ?? 0,
    fallback: spool?.fallback,
  });
  // Take webhooks only once they can be stored; if Redis is down at start, serve 503s meanwhile.
  if (!(await intake.waitUntilReady(startupWaitMs))) {
    logger.warn(
      { waitedMs: startupWaitMs },
      `starting without Redis; webhooks ${spool ? "go to the spool" : "get 503"} until it is reachable`,
    );
  }
  // The admin API works on dead letters through ingest's connection: it fails fast, as webhooks do.
  const { token } = config.admin;
  const deliveries = token ? openDeliveryQueue(config.redis, redis) : undefined;
  deliveries?.on("error", throttledWarning(logger, "delivery queue error (admin API)"));
  const deadLetters = deliveries && new DeadLetters(deliveries, keys, config.targets);
  const mutes = deliveries && new Mutes(redis, keys, deliveries);
  const muteAdmin = mutes && { mutes, subjects: () => muteSubjects(parts().config) };
  // The history's admin routes (/admin/events …) call the same tools as the `events` commands.
  const historyAdmin =
    deliveries && deadLetters && config.history.enabled
      ? historyTools({ redis, parts, deadLetters, deliveries, logger })
      : undefined;
  const admin = token && deadLetters ? { token, deadLetters, mutes: muteAdmin, history: historyAdmin } : undefined;
  const { bodyLimit, maxEventsPerWebhook } = config.server;
  // The console (/console) acts through the same parts as the admin API and the commands.
  const console =
    token && deadLetters && mutes
      ? consoleMiddleware(
          token,
          {
            history: historyAdmin,
            deadLetters,
            mutes,
            disabledTargets: new DisabledTargets(redis, keys),
            parts,
            queues: readQueues,
            configFile: options.configFile,
            logger,
            bodyLimit,
          },
          consolePages,
        )
      : undefined;
  const sources = () => parts().sources;
  const app = createHttpApp({
    sources,
    intake,
    logger,
    bodyLimit,
    maxEventsPerWebhook,
    admin,
    console,
    trustProxy: config.server.trustProxy,
    stopping,
    metrics,
    refused: refusals && ((request) => refusals.refused(request)),
  });
  const closeStores = async () => {
    await spool?.close();
    await deliveries?.close();
    redis.disconnect();
  };
  let http: Awaited<ReturnType<typeof listen>>;
  try {
    http = await listen(app.callback(), config.server.port, config.server.host, config.server);
  } catch (error) {
    await closeStores();
    throw new StartupError(listenFailure(error as NodeJS.ErrnoException, config));
  }
  const { port } = http.server.address() as AddressInfo;
  logger.info({ port, sources: [...sources().keys()] }, "listening for webhooks");
  return {
    url: `http://${config.server.host === "0.0.0.0" ? "127.0.0.1" : config.server.host}:${port}`,
    spool,
    async close() {
      await http.close();
      // Only once no request is left that could still be storing a webhook.
      await closeStores();
    },
  };
}

/** The spool of `config.spool`, or a StartupError saying why its directory cannot be used. */
async function openSpool(
  config: Config,
  redis: Parameters<typeof openIngestSpool>[1],
  stream: WebhookStream,
  logger: Logger,
) {
  if (!config.spool) return undefined;
  try {
    return await openIngestSpool(config.spool, redis, stream, logger);
  } catch (error) {
    redis.disconnect();
    throw new StartupError(`cannot use spool.dir "${config.spool.dir}": ${(error as Error).message}`);
  }
}

/** The relay could not start; the message is the one line a user needs. */
export class StartupError extends Error {
  override name = "StartupError";
}

function listenFailure(
  error: NodeJS.ErrnoException,
  config: Config,
  port = config.server.port,
  setting = "PORT / server.port",
): string {
  const where = `${config.server.host}:${port}`;
  if (error.code === "EADDRINUSE") {
    return `port ${port} is already in use (${where}): stop what runs there, or set ${setting}`;
  }
  if (error.code === "EACCES") return `not allowed to listen on ${where}: use a port above 1023, or set ${setting}`;
  return `cannot listen on ${where}: ${error.message}`;
}

function warnOfOpenSources(config: Config, logger: Logger): void {
  for (const [id, settings] of Object.entries(config.sources)) {
    if ((settings.type === "socialboards" || settings.type === "sonar") && !settings.urlToken) {
      logger.warn({ source: id }, "urlToken: none: anyone who knows the URL can post events to this source");
    }
  }
}
