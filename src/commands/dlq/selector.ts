import type { Selector } from "../../queue/dead-letters.js";
import { UsageError } from "../command.js";

/**
 * `ID...`, `--target T` or `--all`, exactly one of them: a replay or purge of everything must
 * be asked for by name, never be what a forgotten argument does. `narrowedBy` (--since,
 * --older-than) narrows --target and --all; named dead letters are taken as named.
 */
export function selectorFrom(ids: string[], values: { target?: string; all?: boolean }, narrowedBy?: string): Selector {
  const given = [ids.length > 0, values.target !== undefined, values.all === true].filter(Boolean).length;
  if (given !== 1) throw new UsageError("name dead letters by ID, --target T or --all (one of them)");
  if (values.target !== undefined) return { target: values.target };
  if (values.all) return { all: true };
  if (narrowedBy) throw new UsageError(`${narrowedBy} narrows --target or --all, not dead letters named by ID`);
  return { ids };
}
