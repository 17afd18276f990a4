/** Columns padded to their widest cell; the last is left as long as it is. */
export function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

const units: [string, number][] = [
  ["d", 86_400_000],
  ["h", 3_600_000],
  ["m", 60_000],
  ["s", 1000],
];

/** An end time as the list commands show it: `2026-11-25T18:50:25.277Z (9m58s left)`. */
export function untilWithTimeLeft(iso: string, now = Date.now()): string {
  return `${iso} (${age(new Date(now).toISOString(), Date.parse(iso))} left)`;
}

/** How long ago an ISO time was, in its two largest units: `45s`, `3h12m`, `2d4h`. */
export function age(iso: string, now = Date.now()): string {
  let left = Math.max(0, now - Date.parse(iso));
  const parts: string[] = [];
  for (const [unit, ms] of units) {
    if (left >= ms || parts.length > 0 || unit === "s") {
      parts.push(`${Math.floor(left / ms)}${unit}`);
      left %= ms;
    }
    if (parts.length === 2) break;
  }
  return parts.join("");
}

/** `1 dead letter`, `3 dead letters`. */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

/** Cut to one line of at most `max` characters, so a table row stays a row. */
export function oneLine(text: string, max: number): string {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

export function printJson(value: unknown): void {
  console.log(JSON.stringify(value, null, 2));
}
