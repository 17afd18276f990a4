import type { AddressInfo } from "node:net";
import Router from "@koa/router";
import Koa from "koa";
import type { Logger } from "../log.js";
import { answerErrors, answerNotFound } from "./error-answer.js";
import { addHealthRoutes } from "./health.js";
import { refuseOtherMethods } from "./methods.js";
import { listen } from "./server.js";

export interface OpsDeps {
  /** Does Redis answer now? */
  redisAnswers: () => Promise<boolean>;
  /** True once shutdown began. */
  stopping: () => boolean;
  /** `GET /metrics` (metrics/endpoint.ts). */
  metrics: Koa.Middleware;
}

/**
 * The worker role has no webhook port, so it gets this small server for orchestrators and
 * Prometheus: `/healthz` (the process is up), `/readyz` (503 while Redis is away or the worker
 * shuts down) and `/metrics`. In role all the ingest port serves the same paths instead.
 */
export function createOpsApp({ redisAnswers, stopping, metrics, logger }: OpsDeps & { logger: Logger }): Koa {
  const app = new Koa();
  const router = new Router();
  addHealthRoutes(router, { ready: redisAnswers, stopping });
  router.get("/metrics", metrics);

  app.use(answerErrors(logger));
  app.use(refuseOtherMethods(router));
  app.use(router.routes());
  app.use(answerNotFound());
  return app;
}

/** Listens on `workers.opsPort` (0: any free port) and logs the port, so a scrape config can name it. */
export async function startOpsServer(deps: OpsDeps & { port: number; host: string; logger: Logger }) {
  const { port, host, logger } = deps;
  const http = await listen(createOpsApp(deps).callback(), port, host);
  const bound = (http.server.address() as AddressInfo).port;
  logger.info({ port: bound }, "listening for health checks and scrapes");
  return {
    url: `http://${host === "0.0.0.0" ? "127.0.0.1" : host}:${bound}`,
    close: () => http.close(),
  };
}
