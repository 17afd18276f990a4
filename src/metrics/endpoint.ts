import type Koa from "koa";
import type { Registry } from "prom-client";

/**
 * `GET /metrics` in the Prometheus text format. Never slower than the queue read's timeout
 * (metrics/relay-metrics.ts): a scrape while Redis is away still brings the counters.
 */
export function metricsEndpoint(registry: Registry): Koa.Middleware {
  return async (ctx) => {
    ctx.set("Content-Type", registry.contentType);
    ctx.body = await registry.metrics();
  };
}
