import { type FSWatcher, statSync, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";
import { ConfigError } from "./config/errors.js";
import { loadConfig } from "./config/load.js";
import type { Config } from "./config/schema.js";
import type { Logger } from "./log.js";
import type { RunningRelay } from "./serve.js";

/**
 * How long the config file must keep its size and modification time before it is read. Editors
 * save in bursts (write, rename, chmod) and a copy or a deploy tool writes in chunks: a file read
 * half-way through is valid YAML often enough (cut after `sources:`, it is a config with no
 * routes) to be put in force, so the reload waits until the writing has stopped.
 */
export const settleMs = 500;

/** `kill -HUP`: load the file again, refusing one that would leave nothing to deliver to. */
export const reloadSignal = "SIGHUP";
/** `kill -USR2`: the same, forced: a file with no routes or no targets is put in force too. */
export const forcedReloadSignal = "SIGUSR2";

interface Request {
  why: string;
  force: boolean;
}

/**
 * Reloads the config on SIGHUP (SIGUSR2: forced) and when its file changes, once the file has
 * stopped changing. An invalid file is refused with every problem logged, and so is one that
 * would remove every route or every target unless forced: the running config keeps serving, as
 * a typo or a half-written save must not take the relay down or drop what it receives. `running`
 * is the config the relay started with. Returns a function that stops watching.
 */
export function watchConfig(
  file: string,
  relay: Pick<RunningRelay, "reload" | "reloadRefused">,
  logger: Logger,
  running: Config,
  options: { settleMs?: number } = {},
): () => void {
  const settle = options.settleMs ?? settleMs;
  let inForce = running;
  let pending: Request | undefined;
  let timer: NodeJS.Timeout | undefined;
  let busy = false;
  let stopped = false;
  /** The file as last seen; it must look the same one settle window later to be read. */
  let seen = fileVersion(file);

  const later = () => {
    clearTimeout(timer);
    timer = setTimeout(() => void look(), settle);
  };
  const ask = (request: Request) => {
    // A forced reload stays forced when a file change joins it before it runs.
    const force = (pending?.force ?? false) || request.force;
    pending = { why: request.force || !pending ? request.why : pending.why, force };
    seen = fileVersion(file);
    later();
  };
  const look = async () => {
    if (!pending || stopped) return;
    if (busy) return later();
    const now = await fileVersionNow(file);
    if (now !== seen) {
      seen = now; // still being written: wait for a whole window without change
      return later();
    }
    busy = true;
    try {
      const next = await readConfig(file);
      // Changed while it was read: what was parsed may be half of it; read it again once settled.
      if ((await fileVersionNow(file)) !== now) return ask(pending);
      if (stopped) return; // the relay is closing: a reload now would rebuild what it closes
      const request = pending;
      pending = undefined;
      if (next instanceof ConfigError) return refuseInvalid(next, request);
      const emptied = whatItEmpties(inForce, next);
      if (emptied && !request.force) return refuseEmptying(emptied, next, request);
      if (emptied) logger.warn({ why: request.why, forced: true }, `reloading by force although ${emptied}`);
      const { restartNeededFor } = relay.reload(next);
      inForce = next;
      if (restartNeededFor.length > 0) {
        logger.warn({ sections: restartNeededFor }, "these sections changed and take effect after a restart");
      }
    } finally {
      busy = false;
    }
  };
  const refuseInvalid = (error: ConfigError, { why }: Request) => {
    relay.reloadRefused();
    logger.error(
      { why, problems: error.problems.length, errors: error.message.split("\n") },
      "config not reloaded; the running config stays in force",
    );
  };
  const refuseEmptying = (emptied: string, next: Config, { why }: Request) => {
    relay.reloadRefused();
    const pid = process.pid;
    logger.warn(
      { why, file, routes: next.routes.length, targets: Object.keys(next.targets).length },
      `config not reloaded: ${emptied}, so every webhook would match no route and nothing would be delivered (a file saved half-way looks like this); the running config stays in force. If that is meant, force it: ticket-relay reload --force --pid ${pid} (or kill -USR2 ${pid})`,
    );
  };

  const onHangup = () => ask({ why: reloadSignal, force: false });
  const onForced = () => ask({ why: forcedReloadSignal, force: true });
  process.on(reloadSignal, onHangup);
  process.on(forcedReloadSignal, onForced);
  // The folder, not the file: an editor that saves by renaming replaces the file watched.
  let watcher: FSWatcher | undefined;
  try {
    const name = basename(file);
    watcher = watch(dirname(file), (_event, changed) => {
      if (changed === name) ask({ why: "file changed", force: false });
    });
    watcher.on("error", () => undefined);
  } catch (error) {
    logger.warn({ err: error }, "cannot watch the config file; reload with SIGHUP (ticket-relay reload)");
  }
  return () => {
    stopped = true;
    clearTimeout(timer);
    process.off(reloadSignal, onHangup);
    process.off(forcedReloadSignal, onForced);
    watcher?.close();
  };
}

/**
 * What putting `next` in force would take away entirely, said for a log line: every route, or
 * every target. Nothing when the running config had none either: then it removes nothing.
 */
export function whatItEmpties(running: Config, next: Config): string | undefined {
  const had = { targets: Object.keys(running.targets).length, routes: running.routes.length };
  const will = { targets: Object.keys(next.targets).length, routes: next.routes.length };
  const gone = (["targets", "routes"] as const).filter((kind) => had[kind] > 0 && will[kind] === 0);
  if (gone.length === 0) return undefined;
  const counts = gone.map((kind) => `${had[kind]} ${had[kind] === 1 ? kind.slice(0, -1) : kind}`);
  return `the file has ${gone.map((kind) => `no ${kind}`).join(" and ")} where the running config has ${counts.join(" and ")}`;
}

async function readConfig(file: string): Promise<Config | ConfigError> {
  try {
    return await loadConfig(file);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
}

/** Which file, how long, last written when: what must hold still for a settle window. */
function fileVersion(file: string): string {
  try {
    return versionOf(statSync(file));
  } catch {
    return "missing";
  }
}

async function fileVersionNow(file: string): Promise<string> {
  return stat(file).then(versionOf, () => "missing");
}

function versionOf(stats: { ino: number; size: number; mtimeMs: number }): string {
  return `${stats.ino}:${stats.size}:${stats.mtimeMs}`;
}
