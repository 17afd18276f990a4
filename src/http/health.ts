import type Router from "@koa/router";
import { HttpError } from "./body.js";

/**
 * `/healthz` (the process is up) and `/readyz` (503 while Redis does not answer or shutdown
 * has begun), the same on the ingest port and on a worker's ops server.
 */
export function addHealthRoutes(router: Router, deps: { ready: () => Promise<boolean>; stopping: () => boolean }) {
  router.get("/healthz", (ctx) => {
    ctx.body = { status: "ok" };
  });
  router.get("/readyz", async (ctx) => {
    if (deps.stopping()) throw new HttpError(503, "shutting down");
    if (!(await deps.ready())) throw new HttpError(503, "Redis is unreachable");
    ctx.body = { status: "ready" };
  });
}
