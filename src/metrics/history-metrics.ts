import { Counter, Gauge, type Registry } from "prom-client";
import type { HistoryStats } from "../history/history.js";

/**
 * `ticket_relay_history_*`: what the history holds and whether it records (history/), from
 * what it last read of Redis (every few seconds): a scrape waits for nothing.
 */
export function registerHistoryGauges(registry: Registry, stats: () => HistoryStats): void {
  const gauge = (name: string, help: string, read: (now: HistoryStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(stats()));
      },
    });
  gauge("ticket_relay_history_records", "Webhooks whose history is kept (ticket-relay events).", (now) => now.records);
  gauge(
    "ticket_relay_history_bytes",
    "Redis memory the history takes, estimated from a sample of its newest records.",
    (now) => now.bytes,
  );
  gauge(
    "ticket_relay_history_paused",
    "1 while history recording is paused because Redis is near maxmemory; deliveries go on.",
    (now) => (now.paused ? 1 : 0),
  );
  new Counter({
    name: "ticket_relay_history_skipped_total",
    help: "History records and steps left out while recording was paused.",
    registers: [registry],
    collect() {
      // Kept by the history itself; the counter shows its count as of now.
      this.reset();
      this.inc(stats().skipped);
    },
  });
}
