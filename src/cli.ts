import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "./config/errors.js";
import { loadConfig, resolveConfigPath } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { createLogger } from "./log.js";
import { type Role, roles, startRelay } from "./serve.js";

const usage = `Usage: ticket-relay <command> [options]

Commands:
  serve [--config FILE] [--role all|ingest|worker]   run the relay (default role: all)
  check [--config FILE]                              validate the config and exit

The config file is --config, else $RELAY_CONFIG, else config/relay.yaml.
Variables in a .env file in the working directory are loaded when not already set.`;

/** Thin on purpose: parse arguments, call the modules, turn failures into exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === "help" || command === "--help" || command === "-h") {
    console.log(usage);
    return command === undefined ? 1 : 0;
  }
  if (existsSync(".env")) process.loadEnvFile(".env");

  let args: ReturnType<typeof parseCommandArgs>;
  try {
    args = parseCommandArgs(rest);
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  const file = resolveConfigPath(args.config);

  switch (command) {
    case "check":
      return check(file);
    case "serve":
      return serve(file, args.role);
    default:
      console.error(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

function parseCommandArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: { config: { type: "string" }, role: { type: "string" } },
    strict: true,
  });
  if (values.role !== undefined && !roles.includes(values.role as Role)) {
    throw new Error(`--role must be one of ${roles.join(", ")}`);
  }
  return { config: values.config, role: (values.role ?? "all") as Role };
}

async function check(file: string): Promise<number> {
  const config = await loadOrReport(file);
  if (!config) return 1;
  console.log(
    `${file}: OK — ${count(config.sources, "source")}, ${count(config.targets, "target")}, ${config.routes.length} route${config.routes.length === 1 ? "" : "s"}`,
  );
  return 0;
}

async function serve(file: string, role: Role): Promise<number> {
  const config = await loadOrReport(file);
  if (!config) return 1;
  const logger = createLogger();
  const relay = await startRelay(config, { role, logger });

  // Finish what is in flight, then exit: workers hand unfinished jobs back to Redis on close.
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  const forceExit = setTimeout(() => {
    logger.error("shutdown took over 30 s; exiting anyway");
    process.exit(1);
  }, 30_000);
  forceExit.unref();
  await relay.close();
  return 0;
}

async function loadOrReport(file: string): Promise<Config | undefined> {
  try {
    return await loadConfig(file);
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    const n = error.problems.length;
    console.error(`${file}: ${n} problem${n === 1 ? "" : "s"}\n${error.message}`);
    return undefined;
  }
}

function count(record: Record<string, unknown>, noun: string): string {
  const n = Object.keys(record).length;
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}
