import type Router from "@koa/router";
import { HttpError } from "./body.js";

/**
 * `/healthz` (the process is up) and `/readyz` (503 while Redis does not answer or shutdown
 * has begun), the same on the ingest port and on a worker's ops server. Ingest with a spool
 * that takes webhooks while Redis is away is ready, and says it is degraded.
 */
export function addHealthRoutes(
  router: Router,
  deps: { ready: () => Promise<boolean>; stopping: () => boolean; degraded?: () => string | undefined },
) {
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", async (ctx) => {
    if (deps.stopping()) throw new HttpError(503, "shutting down");
    const degraded = deps.degraded?.();
    if (degraded) {
      ctx.body = { status: `degraded: ${degraded}` };
      return;
    }
    if (!(await deps.ready())) throw new HttpError(503, "Redis is unreachable");
    ctx.body = { status: "ready" };
  });
}
