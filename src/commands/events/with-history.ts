import { resolveConfigPath } from "../../config/load.js";
import { loadOrReport } from "../load-config.js";
import { type RelayState, withLoadedRelayState } from "../relay-state.js";

/**
 * `withRelayState` for the `events` and `ticket` commands: with `history.enabled: false` the
 * relay keeps nothing to read, so they say so (before connecting to Redis) and exit 1, rather
 * than answer "no webhooks" as if none had come.
 */
export async function withHistory(
  configFlag: string | undefined,
  work: (state: RelayState) => Promise<number>,
): Promise<number> {
  const file = resolveConfigPath(configFlag);
  const config = await loadOrReport(file);
  if (!config) return 1;
  if (!config.history.enabled) {
    console.error(`history is off (history.enabled: false in ${file})`);
    return 1;
  }
  return withLoadedRelayState(config, file, work);
}
