/** One scrape of a `/metrics` endpoint, as Prometheus would read it. */
export interface Scrape {
  status: number;
  contentType: string;
  text: string;
  /** The sample's value, or undefined when the scrape has no such sample. */
  value(name: string, labels?: Record<string, string>): number | undefined;
  /** Every sample of one metric name, with its labels. */
  samples(name: string): { labels: Record<string, string>; value: number }[];
}

export async function scrape(url: string): Promise<Scrape> {
  const response = await fetch(url);
  const text = await response.text();
  return {
    status: response.status,
    contentType: response.headers.get("content-type") ?? "",
    text,
    value(name, labels = {}) {
      const wanted = Object.entries(labels);
      return parseSamples(text, name).find((sample) =>
        wanted.length === Object.keys(sample.labels).length
          ? wanted.every(([key, value]) => sample.labels[key] === value)
          : false,
      )?.value;
    },
    samples: (name) => parseSamples(text, name),
  };
}

/** Reads `name{a="x",b="y"} 3` lines of the Prometheus text format; enough for the relay's labels. */
function parseSamples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  const samples: { labels: Record<string, string>; value: number }[] = [];
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const [, key, value] of (match[2] ?? "").matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      if (key !== undefined && value !== undefined) labels[key] = value;
    }
    samples.push({ labels, value: Number(match[3]) });
  }
  return samples;
}
