import { type RelayState, withRelayState } from "../relay-state.js";

/** `withRelayState` for the commands that read the history: off, they say so and exit 1. */
export function withHistory(
  configFlag: string | undefined,
  work: (state: RelayState) => Promise<number>,
): Promise<number> {
  return withRelayState(configFlag, work, { history: true });
}
