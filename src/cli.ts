import { readFileSync } from "node:fs";
import { check } from "./commands/check.js";
import { type Command, UsageError } from "./commands/command.js";
import { dlqList } from "./commands/dlq/list.js";
import { dlqPurge } from "./commands/dlq/purge.js";
import { dlqReplay } from "./commands/dlq/replay.js";
import { dlqShow } from "./commands/dlq/show.js";
import { eventsForget } from "./commands/events/forget.js";
import { events } from "./commands/events/list.js";
import { eventsRefused } from "./commands/events/refused.js";
import { eventsReplay } from "./commands/events/replay.js";
import { eventsShow } from "./commands/events/show.js";
import { eventsTail } from "./commands/events/tail.js";
import { mute } from "./commands/mute.js";
import { mutesList } from "./commands/mutes-list.js";
import { reload } from "./commands/reload.js";
import { route } from "./commands/route.js";
import { sendTest } from "./commands/send-test.js";
import { serve } from "./commands/serve.js";
import { sonarRegister } from "./commands/sonar-register.js";
import { targetsEnable } from "./commands/targets-enable.js";
import { targetsList } from "./commands/targets-list.js";
import { testRoutes } from "./commands/test-routes.js";
import { ticket } from "./commands/ticket.js";
import { tryCommand } from "./commands/try/try.js";
import { unmute } from "./commands/unmute.js";
import { usage } from "./commands/usage.js";
import { loadDotEnv } from "./config/dotenv.js";

const commands: readonly Command[] = [
  serve,
  check,
  reload,
  tryCommand,
  route,
  testRoutes,
  sendTest,
  sonarRegister,
  dlqList,
  dlqShow,
  dlqReplay,
  dlqPurge,
  targetsList,
  targetsEnable,
  mute,
  unmute,
  mutesList,
  events,
  eventsShow,
  eventsTail,
  eventsRefused,
  eventsReplay,
  eventsForget,
  ticket,
];
/**
 * Words that start a command of two words (`dlq list`, `events show`). Alone, or before an
 * option, such a word names a command only when one has that name (`events --outcome dead`).
 */
const groups = new Set(commands.flatMap((command) => (command.name.includes(" ") ? [command.name.split(" ")[0]] : [])));

/** Thin on purpose: find the command, hand it its arguments, turn its outcome into an exit code. */
export async function main(argv: string[]): Promise<number> {
  const [first, second] = argv;
  if (first === "--version" || first === "-v") {
    console.log(version());
    return 0;
  }
  if (first === undefined || first === "help" || first === "--help" || first === "-h") {
    console.log(usage);
    return first === undefined ? 1 : 0;
  }
  const name = groups.has(first) && second !== undefined && !second.startsWith("-") ? `${first} ${second}` : first;
  const command = commands.find((candidate) => candidate.name === name);
  if (!command) {
    const subcommands = commands.filter((c) => c.name.startsWith(`${first} `)).map((c) => c.name.split(" ")[1]);
    const what = groups.has(name) ? `${name} needs one of: ${subcommands.join(", ")}` : `unknown command "${name}"`;
    console.error(`${what}\n\n${usage}`);
    return 2;
  }
  const args = argv.slice(name.split(" ").length);
  if (args.includes("--help") || args.includes("-h")) {
    console.log(command.help);
    return 0;
  }
  loadDotEnv(".env");
  try {
    return await command.run(args);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n\n${usage}`);
    return 2;
  }
}

/** The package's version, read beside src/ or dist/ alike. */
function version(): string {
  const manifest = readFileSync(new URL("../package.json", import.meta.url), "utf8");
  return (JSON.parse(manifest) as { version: string }).version;
}
