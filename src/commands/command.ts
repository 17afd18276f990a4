import { type ParseArgsConfig, parseArgs } from "node:util";

/**
 * One `ticket-relay` command: its own file under src/commands/, its own `--help`. The
 * dispatcher (src/cli.ts) finds it by name and turns what it returns into the exit code.
 */
export interface Command {
  /** As typed after `ticket-relay`: `serve`, `dlq list`. */
  name: string;
  /** What `ticket-relay <name> --help` prints. */
  help: string;
  /** 0 done, 1 failed, 2 usage; or throws UsageError, which the dispatcher prints with the usage. */
  run(args: string[]): Promise<number>;
}

/** The command line is wrong: exit 2, with what is wrong and the usage. */
export class UsageError extends Error {
  override name = "UsageError";
}

type Options = NonNullable<ParseArgsConfig["options"]>;

/** node:util's parseArgs, strict, with its complaints turned into UsageErrors. */
export function parseOptions<O extends Options>(args: string[], options: O, positionals = false) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: positionals });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
}
