import type Koa from "koa";
import type { WebhookRecorder } from "../metrics/relay-metrics.js";

const webhookPath = /^\/webhooks\/([^/]+)\/?$/;

/**
 * Counts and times every webhook POST once its answer is final: it runs outside the error
 * mapping, so a refusal is counted with the status the sender got. A path that names no
 * configured source is counted as `unknown`: whoever can reach the port must not be able to
 * mint labels.
 */
export function measureWebhooks(recorder: WebhookRecorder, isSource: (id: string) => boolean): Koa.Middleware {
  return async (ctx, next) => {
    const id = ctx.method === "POST" ? webhookPath.exec(ctx.path)?.[1] : undefined;
    if (id === undefined) return next();
    const started = performance.now();
    try {
      await next();
    } finally {
      const source = isSource(id) ? id : "unknown";
      recorder.answered({ source, status: ctx.status, seconds: (performance.now() - started) / 1000 });
    }
  };
}
