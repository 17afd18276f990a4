/**
 * Human units for the config file: "500ms", "10s", "1h" for durations and "1mb" for sizes.
 * Plain numbers are milliseconds and bytes.
 */
const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
const sizeUnits: Record<string, number> = { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 };

export const durationPattern = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)$/;
export const sizePattern = /^(\d+(?:\.\d+)?)\s*(b|kb|mb|gb)$/i;

export function parseDuration(text: string): number {
  const match = durationPattern.exec(text.trim());
  if (!match) throw new Error(`not a duration: "${text}" (use e.g. 500ms, 10s, 5m, 1h)`);
  return Math.round(Number(match[1]) * (durationUnits[match[2] as string] as number));
}

export function parseSize(text: string): number {
  const match = sizePattern.exec(text.trim());
  if (!match) throw new Error(`not a size: "${text}" (use e.g. 512kb, 1mb)`);
  return Math.round(Number(match[1]) * (sizeUnits[(match[2] as string).toLowerCase()] as number));
}
