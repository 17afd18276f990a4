import { forcedReloadSignal, reloadSignal } from "../reload.js";
import { type Command, parseOptions, UsageError } from "./command.js";

export const reload: Command = {
  name: "reload",
  help: `Usage: ticket-relay reload --pid PID [--force]

Asks a running serve to load its config file again: it sends SIGHUP to process PID, as
kill -HUP does. serve reads the file once it has stopped changing, puts a valid one in force and
refuses an invalid one. It also refuses a file with no routes or no targets where the running
config has some (a file saved half-way looks like that), and logs how to force it.
  --pid PID   the serve process (in the Docker image it is 1:
              docker compose exec relay node bin/ticket-relay.js reload --pid 1)
  --force     put such a file in force anyway, every route or target gone (sends SIGUSR2)
Each serve process reads the file itself: with several, send it to each. What serve made of
it is in serve's log ("config reloaded", or "config not reloaded" and why).`,
  async run(args) {
    const { values } = parseOptions(args, { pid: { type: "string" }, force: { type: "boolean", default: false } });
    if (values.pid === undefined) {
      throw new UsageError("reload needs --pid PID, the process id of ticket-relay serve (1 in the Docker image)");
    }
    const pid = Number(values.pid);
    if (!Number.isInteger(pid) || pid <= 0) throw new UsageError(`--pid must be a process id, not "${values.pid}"`);
    const signal = values.force ? forcedReloadSignal : reloadSignal;
    try {
      process.kill(pid, signal);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      console.error(
        code === "ESRCH"
          ? `no process ${pid}: is ticket-relay serve running, and is ${pid} its process id?`
          : code === "EPERM"
            ? `not allowed to signal process ${pid}: run this as the user that runs ticket-relay serve`
            : `could not signal process ${pid}: ${(error as Error).message}`,
      );
      return 1;
    }
    console.log(
      `sent ${signal} to ${pid}${values.force ? " (forced)" : ""}: it loads its config file once the file has stopped changing; its log says "config reloaded", or why not`,
    );
    return 0;
  },
};
