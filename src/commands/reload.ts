import { watch } from "node:fs";
import { ConfigError } from "../config/errors.js";
import { loadConfig } from "../config/load.js";
import type { Logger } from "../log.js";
import type { RunningRelay } from "../serve.js";

/** Editors save in bursts (write, rename, chmod): one reload for a burst. */
const settleMs = 300;

/**
 * Reloads the config on SIGHUP and when its file changes. An invalid file is refused with
 * every problem logged, and the running config keeps serving: a typo in a route must not take
 * the relay down. Returns a function that stops watching.
 */
export function watchConfig(file: string, relay: RunningRelay, logger: Logger): () => void {
  let timer: NodeJS.Timeout | undefined;
  const reload = async (why: string) => {
    try {
      const next = await loadConfig(file);
      const { restartNeededFor } = relay.reload(next);
      if (restartNeededFor.length > 0) {
        logger.warn({ sections: restartNeededFor }, "these sections changed and take effect after a restart");
      }
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      relay.reloadRefused();
      logger.error(
        { why, problems: error.problems.length, errors: error.message.split("\n") },
        "config not reloaded; the running config stays in force",
      );
    }
  };
  const soon = (why: string) => {
    clearTimeout(timer);
    timer = setTimeout(() => void reload(why), settleMs);
  };
  const onHangup = () => soon("SIGHUP");
  process.on("SIGHUP", onHangup);
  // The folder, not the file: an editor that saves by renaming replaces the file watched.
  let watcher: ReturnType<typeof watch> | undefined;
  try {
    const name = file.split("/").pop() ?? file;
    const folder = file.includes("/") ? file.slice(0, file.lastIndexOf("/")) || "/" : ".";
    watcher = watch(folder, (_event, changed) => {
      if (changed === name) soon("file changed");
    });
    watcher.on("error", () => undefined);
  } catch (error) {
    logger.warn({ err: (error as Error).message }, "cannot watch the config file; reload with SIGHUP");
  }
  return () => {
    clearTimeout(timer);
    process.off("SIGHUP", onHangup);
    watcher?.close();
  };
}
