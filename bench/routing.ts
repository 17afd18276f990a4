/**
 * `npm run bench` (first part): how fast compiled routes match normalized events, with a
 * realistic mix of operators. Prints figures; passes or fails nothing.
 *
 *   BENCH_ROUTES=50 BENCH_EVENTS=500000 npx tsx bench/routing.ts
 */
import { readdirSync, readFileSync } from "node:fs";
import { parseConfig } from "../src/config/load.js";
import type { RelayEvent } from "../src/events.js";
import { compileRoutes } from "../src/routing/router.js";
import { createSources } from "../src/sources/registry.js";

const routeCount = Number(process.env.BENCH_ROUTES ?? 50);
const eventCount = Number(process.env.BENCH_EVENTS ?? 500_000);

const sourcesYaml =
  "sources:\n  socialboards: { type: socialboards, verifyToken: v, urlToken: none }\n  sonar: { type: sonar, urlToken: none }\n";
const sources = createSources(parseConfig(sourcesYaml, "bench.yaml", {}));
const events: RelayEvent[] = ["socialboards", "sonar"].flatMap((type) => {
  const dir = new URL(`../test/fixtures/${type}/`, import.meta.url);
  return readdirSync(dir)
    .filter((file) => file.endsWith(".json"))
    .flatMap((file) => {
      const payload = JSON.parse(readFileSync(new URL(file, dir), "utf8"));
      return sources.get(type)?.normalize(payload, { id: "b", source: type, receivedAt: "t" }) ?? [];
    });
});

// Routes that mostly do not match, as in a real config, so each event walks most of the list.
const shapes = [
  (i: number) => `{ event: ticket_status_change, previousStatus: open, status: [pending, closed${i}] }`,
  (i: number) => `{ event: "reply_*", author.email: { regex: "@team${i}\\\\.example$" } }`,
  (i: number) => `{ tags: { contains: [vip${i}, urgent${i}] }, category: { not: spam } }`,
  (i: number) => `{ payload.Ticket.Properties.IsSpam: true, payload.ReplyCount: { gt: ${i} } }`,
  (i: number) => `{ customer.phone: { glob: "+44${i}*" }, sourceType: sonar }`,
];
const routesYaml = Array.from(
  { length: routeCount },
  (_, i) => `  - match: ${shapes[i % shapes.length]?.(i)}\n    to: [t]\n    continue: true`,
).join("\n");
const config = parseConfig(
  `allowPrivateNetwork: true\n${sourcesYaml}targets:\n  t: { type: http, url: "http://127.0.0.1/t" }\nroutes:\n${routesYaml}\n  - to: [t]\n`,
  "bench.yaml",
  {},
);

const compileStarted = performance.now();
const router = compileRoutes(config.routes);
const compileMs = performance.now() - compileStarted;

let deliveries = 0;
for (let i = 0; i < 10_000; i++) deliveries += router.match(events[i % events.length] as RelayEvent).length; // warm-up
deliveries = 0;
const started = performance.now();
for (let i = 0; i < eventCount; i++) deliveries += router.match(events[i % events.length] as RelayEvent).length;
const seconds = (performance.now() - started) / 1000;

console.log(
  `routing: ${routeCount + 1} routes compiled in ${compileMs.toFixed(1)} ms; ${eventCount} matches of ${events.length} kinds of event ` +
    `in ${seconds.toFixed(2)} s = ${Math.round(eventCount / seconds)} events/s (${((seconds / eventCount) * 1e6).toFixed(2)} µs each, ${deliveries} deliveries)`,
);
