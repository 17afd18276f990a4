/**
 * Polls `probe` until it returns something other than undefined or false, and returns that.
 * End-to-end tests wait on what real servers received instead of sleeping a guessed time.
 */
export async function waitFor<T>(
  probe: () => T | undefined | false | Promise<T | undefined | false>,
  options: { timeoutMs?: number; intervalMs?: number; what?: string } = {},
): Promise<T> {
  const { timeoutMs = 10_000, intervalMs = 25, what = "condition" } = options;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      // A probe may throw while a server is still starting or restarting; keep trying until the deadline.
      lastError = error;
    }
    if (Date.now() > deadline) {
      const cause = lastError instanceof Error ? ` (last error: ${lastError.message})` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves once `list` holds at least `count` items; shared by the recording test servers. */
export function waitForCount<T>(list: T[], count: number, what: string, timeoutMs = 10_000): Promise<T[]> {
  return waitFor(() => (list.length >= count ? list.slice(0, count) : undefined), {
    timeoutMs,
    what: `${count} ${what} (have ${list.length})`,
  });
}
