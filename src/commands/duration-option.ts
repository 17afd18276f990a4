import { parseDuration } from "../config/duration.js";
import { UsageError } from "./command.js";

/** A duration option (`--since 1h`, `--older-than 7d`, `--for 2h`, `--wait 30s`) in ms. */
export function durationOption(flag: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    throw new UsageError(`${flag} takes a duration such as 30m, 1h or 7d, not "${text}"`);
  }
}
