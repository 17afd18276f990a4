import { existsSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "./config/errors.js";
import { loadConfig, resolveConfigPath } from "./config/load.js";
import type { Config } from "./config/schema.js";
import { createLogger } from "./log.js";
import { type Role, roles, startRelay } from "./serve.js";
import { defaultSonarApiUrl, registerSonarWebhook, sonarEndpoint, sonarEventTypes } from "./sources/sonar/register.js";

const usage = `Usage: ticket-relay <command> [options]

Commands:
  serve [--config FILE] [--role all|ingest|worker]   run the relay (default role: all)
  check [--config FILE]                              validate the config and exit
  sonar register --source ID --url PUBLIC_URL [--events a,b] [--name NAME] [--config FILE]
                                                     create the webhook on Sonar for source ID
                                                     (API token from $SONAR_API_TOKEN)

The config file is --config, else $RELAY_CONFIG, else config/relay.yaml.
Variables in a .env file in the working directory are loaded when not already set.`;

/**
 * The longest a shutdown may take before the process exits anyway: past any target's timeout
 * (10 s by default), inside docker-compose's `stop_grace_period` of 35 s.
 */
const shutdownLimitMs = 25_000;

/** Thin on purpose: parse arguments, call the modules, turn failures into exit codes. */
export async function main(argv: string[]): Promise<number> {
  const [first, ...afterFirst] = argv;
  // `sonar register` is one command of two words.
  const command = first === "sonar" && afterFirst[0] === "register" ? "sonar register" : first;
  const rest = command === "sonar register" ? afterFirst.slice(1) : afterFirst;
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
    case "sonar register":
      return sonarRegister(file, args);
    default:
      console.error(`unknown command "${command}"\n\n${usage}`);
      return 2;
  }
}

function parseCommandArgs(args: string[]) {
  const { values } = parseArgs({
    args,
    options: {
      config: { type: "string" },
      role: { type: "string" },
      source: { type: "string" },
      url: { type: "string" },
      events: { type: "string", multiple: true },
      name: { type: "string" },
    },
    strict: true,
  });
  if (values.role !== undefined && !roles.includes(values.role as Role)) {
    throw new Error(`--role must be one of ${roles.join(", ")}`);
  }
  return {
    ...values,
    role: (values.role ?? "all") as Role,
    // `--events a,b` and `--events a --events b` both work.
    events: values.events
      ?.flatMap((list) => list.split(","))
      .map((event) => event.trim())
      .filter(Boolean),
  };
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

  // Finish what is in flight, then exit: intake stops, workers finish the jobs in hand (each
  // bounded by its target's timeout) and take no new ones.
  await new Promise<void>((resolve) => {
    const stop = (signal: string) => {
      logger.info({ signal }, "shutting down");
      resolve();
    };
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
  });
  // A second Ctrl-C means "now"; and a shutdown never outlasts the 35 s docker-compose gives.
  const forceExit = (why: string) => {
    logger.error(why);
    process.exit(1);
  };
  process.once("SIGINT", () => forceExit("second signal; exiting without waiting"));
  process.once("SIGTERM", () => forceExit("second signal; exiting without waiting"));
  setTimeout(
    () => forceExit(`shutdown took over ${shutdownLimitMs / 1000} s; exiting anyway`),
    shutdownLimitMs,
  ).unref();
  await relay.close();
  logger.info("stopped");
  return 0;
}

async function sonarRegister(file: string, args: ReturnType<typeof parseCommandArgs>): Promise<number> {
  if (!args.source || !args.url) {
    console.error(`sonar register needs --source ID and --url PUBLIC_URL\n\n${usage}`);
    return 2;
  }
  const config = await loadOrReport(file);
  if (!config) return 1;
  const source = config.sources[args.source];
  if (source?.type !== "sonar") {
    const sonarIds = Object.entries(config.sources).flatMap(([id, s]) => (s.type === "sonar" ? [id] : []));
    console.error(`${file}: no sonar source "${args.source}" (sonar sources: ${sonarIds.join(", ") || "none"})`);
    return 1;
  }
  const events = args.events ?? [...sonarEventTypes];
  const unknown = events.filter((event) => !(sonarEventTypes as readonly string[]).includes(event));
  if (unknown.length > 0) {
    console.error(`unknown Sonar event ${unknown.join(", ")}; Sonar offers ${sonarEventTypes.join(", ")}`);
    return 2;
  }
  const apiToken = process.env.SONAR_API_TOKEN;
  if (!apiToken) {
    console.error("set SONAR_API_TOKEN to your Sonar API token (Company Settings → Private Token)");
    return 1;
  }
  let endpoint: string;
  try {
    endpoint = sonarEndpoint(args.url, args.source, source.urlToken);
  } catch {
    console.error(`--url must be a URL such as https://relay.example.com, not "${args.url}"`);
    return 2;
  }
  const shown = endpoint.replace(/([?&]token=)[^&]*/, "$1…");
  const result = await registerSonarWebhook({
    apiUrl: process.env.SONAR_API_URL ?? defaultSonarApiUrl,
    apiToken,
    name: args.name ?? `ticket-relay ${args.source}`,
    endpoint,
    events,
  }).catch((error: Error) => ({ ok: false, status: 0, body: error.message }));
  if (!result.ok) {
    const detail = typeof result.body === "string" ? result.body : JSON.stringify(result.body);
    console.error(`Sonar refused the webhook (${result.status || "no answer"}): ${detail.slice(0, 500)}`);
    return 1;
  }
  console.log(`Sonar webhook created: ${events.length} event${events.length === 1 ? "" : "s"} → ${shown}`);
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
