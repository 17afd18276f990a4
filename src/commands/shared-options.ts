import { type Role, roles } from "../serve.js";
import { parseOptions, UsageError } from "./command.js";

/**
 * The options serve, check and sonar register took together while they shared one parser.
 * Each of them still takes all of these, so a script that passed one to a command it does
 * not concern (`check --role worker`) keeps working as before.
 */
export function parseSharedOptions(args: string[]) {
  const { values } = parseOptions(args, {
    config: { type: "string" },
    role: { type: "string" },
    source: { type: "string" },
    url: { type: "string" },
    events: { type: "string", multiple: true },
    name: { type: "string" },
  });
  if (values.role !== undefined && !roles.includes(values.role as Role)) {
    throw new UsageError(`--role must be one of ${roles.join(", ")}`);
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
