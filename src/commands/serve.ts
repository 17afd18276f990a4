import { resolveConfigPath } from "../config/load.js";
import { createLogger } from "../log.js";
import { type EmbeddedRedis, embedded, startEmbeddedRedis } from "../redis/embedded.js";
import { watchConfig } from "../reload.js";
import { type RunningRelay, StartupError, startRelay } from "../serve.js";
import type { Command } from "./command.js";
import { loadOrReport } from "./load-config.js";
import { parseSharedOptions } from "./shared-options.js";

/**
 * The longest a shutdown may take before the process exits anyway: past any target's timeout
 * (10 s by default), inside docker-compose's `stop_grace_period` of 35 s.
 */
const shutdownLimitMs = 25_000;

/** Signals closer together than this are one Ctrl-C that reached the relay twice. */
const sameKeypressMs = 1000;

export const serve: Command = {
  name: "serve",
  help: `Usage: ticket-relay serve [--config FILE] [--role all|ingest|worker] [--pretty]

Runs the relay. all (the default) is ingest and workers in one process; ingest receives
webhooks (and serves the admin API when admin.token is set); worker routes and delivers.
On SIGTERM or SIGINT (Ctrl-C) it finishes what is in flight and exits 0; a second signal, more
than a second after the first, exits at once.
On SIGHUP, and whenever the config file changes, it loads the file again once the file has
stopped changing (500 ms): a valid one is put in force at once (sources, routes, targets, retry);
an invalid one, or one with no routes or no targets where the running config has some, is
logged and the running config kept. SIGUSR2 (ticket-relay reload --force) puts the latter in
force too.
Logs are JSON lines, or lines for people when stdout is a terminal or with --pretty.`,
  async run(args) {
    // --pretty is serve's own; the other options are those serve shares with check.
    const { config: flag, role } = parseSharedOptions(args.filter((arg) => arg !== "--pretty"));
    const pretty = args.includes("--pretty") || process.stdout.isTTY === true;
    const file = resolveConfigPath(flag);
    const config = await loadOrReport(file);
    if (!config) return 1;
    const logger = createLogger({ pretty });
    let redis: EmbeddedRedis | undefined;
    if (config.redis.url === embedded) {
      try {
        redis = await startEmbeddedRedis(config.redis.dataDir, logger);
      } catch (error) {
        console.error((error as Error).message);
        return 1;
      }
      config.redis.url = redis.url;
    }
    let relay: RunningRelay;
    try {
      relay = await startRelay(config, { role, logger, configFile: file });
    } catch (error) {
      await redis?.stop();
      if (!(error instanceof StartupError)) throw error;
      console.error(error.message);
      return 1;
    }
    // A file reloaded still says `redis.url: embedded`: that is the Redis this process started,
    // not a change of section that needs a restart.
    const running = redis?.url;
    const reloading: RunningRelay =
      running === undefined
        ? relay
        : {
            ...relay,
            reload: (next) =>
              relay.reload(next.redis.url === embedded ? { ...next, redis: { ...next.redis, url: running } } : next),
          };
    const stopWatching = watchConfig(file, reloading, logger, config);

    // Finish what is in flight, then exit: intake stops, workers finish the jobs in hand (each
    // bounded by its target's timeout) and take no new ones. A second signal means "now", but
    // not one within a second of the first: `npm start` passes on the Ctrl-C the terminal has
    // already sent to the whole process group, so one keypress arrives twice.
    const forceExit = (why: string) => {
      logger.error(why);
      // The embedded Redis is in a process group of its own: no Ctrl-C reaches it but this.
      redis?.stopNow();
      process.exit(1);
    };
    let signalledAt: number | undefined;
    await new Promise<void>((resolve) => {
      const onSignal = (signal: string) => {
        if (signalledAt === undefined) {
          signalledAt = Date.now();
          logger.info({ signal }, "shutting down");
          resolve();
        } else if (Date.now() - signalledAt > sameKeypressMs) {
          forceExit("second signal; exiting without waiting");
        }
      };
      // Listeners stay for the whole shutdown: a signal with none would end the process at once.
      process.on("SIGINT", onSignal);
      process.on("SIGTERM", onSignal);
    });
    // A shutdown never outlasts the 35 s docker-compose gives.
    setTimeout(
      () => forceExit(`shutdown took over ${shutdownLimitMs / 1000} s; exiting anyway`),
      shutdownLimitMs,
    ).unref();
    stopWatching();
    await relay.close();
    // Last: everything above may still need Redis while it finishes.
    await redis?.stop();
    logger.info("stopped");
    // Whatever a worker left to another one (shutdownTimeout) must not keep the process alive.
    setTimeout(() => process.exit(0), 100).unref();
    return 0;
  },
};
