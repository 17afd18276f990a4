import { Gauge, type Registry } from "prom-client";

/** Scrapes wait this long for the mutes, then leave their samples out. */
const readTimeoutMs = 1000;

/**
 * `ticket_relay_muted{kind, name}`: one sample per mute in force (`ticket-relay mute`), its
 * value the seconds until it ends. Read from Redis at scrape time; none when Redis is away.
 */
export function registerMuteGauge(
  registry: Registry,
  readMutes: () => Promise<readonly { kind: string; name: string; until: string }[]>,
): void {
  new Gauge({
    name: "ticket_relay_muted",
    help: "Mutes in force (ticket-relay mute), by kind (target or route) and name: seconds until each ends.",
    labelNames: ["kind", "name"] as const,
    registers: [registry],
    async collect() {
      this.reset();
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), readTimeoutMs);
      });
      const mutes = await Promise.race([readMutes().catch(() => undefined), timeout]).finally(() =>
        clearTimeout(timer),
      );
      const now = Date.now();
      for (const { kind, name, until } of mutes ?? []) {
        this.set({ kind, name }, Math.max(0, Math.round((Date.parse(until) - now) / 1000)));
      }
    },
  });
}
